// Plan Tracker's only script: small behaviours declared with data attributes, so that the
// Content-Security-Policy can forbid inline scripts. Every page works without it.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches("[data-autosubmit]")) field.form.submit();
  if (field.matches("[data-navigate]")) window.location = field.value;
});
document.addEventListener("click", (event) => {
  const button = event.target;
  if (button.matches("[data-print]")) window.print();
  if (button.matches("[data-quote]")) {
    // Quote a cooperating unit's contribution into the office's report.
    const field = document.getElementById(button.dataset.target);
    field.value = (field.value ? field.value + "\n" : "") + button.dataset.quote;
    field.focus();
  }
});
// The header's unread-notice count, read from a small JSON view (so pages need no query).
document.addEventListener("DOMContentLoaded", () => {
  const link = document.querySelector("[data-notice-count]");
  if (!link) return;
  fetch(link.dataset.noticeCount, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (!data || !data.unread) return;
      const badge = link.querySelector(".notice-count");
      badge.textContent = data.unread;
      badge.hidden = false;
      link.classList.add("has-unread");
    })
    .catch(() => {});
});

// A save succeeded (tasks/editing.py set the cookie): forget that page's kept drafts
// (static/js/drafts.js).
(() => {
  const found = document.cookie.match(/(?:^|; )pt_draft_saved=([^;]*)/);
  if (!found) return;
  try {
    const prefix = `pt-draft:${decodeURIComponent(found[1])}:`;
    for (let index = window.localStorage.length - 1; index >= 0; index -= 1) {
      const key = window.localStorage.key(index);
      if (key?.startsWith(prefix)) window.localStorage.removeItem(key);
    }
  } catch (error) {
    // no storage: nothing was kept
  }
  document.cookie = "pt_draft_saved=; Max-Age=0; path=/; SameSite=Lax";
})();
