// Keeps what is typed in a form (marked data-keep-draft) in this browser's localStorage, keyed
// by user, page and the version the form was built from, so that nothing is lost when the
// session ends, the CSRF token changes or a save is refused. After a login (or on any later
// visit) the page offers the kept text back. A successful save makes the server set the
// pt_draft_saved cookie, and app.js forgets the page's drafts. Also announces a session about
// to expire. Texts come from data attributes (translated by the server); no inline script.
(() => {
  const PREFIX = "pt-draft:";

  const storage = (() => {
    try {
      const probe = `${PREFIX}probe`;
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (error) {
      return null; // private mode or storage switched off: the page still works
    }
  })();

  const fields = (form) =>
    Array.from(form.elements).filter(
      (field) =>
        field.name &&
        !["hidden", "file", "submit", "button", "password", "checkbox"].includes(field.type) &&
        !field.readOnly,
    );

  const valuesOf = (form) => {
    const values = {};
    for (const field of fields(form)) values[field.name] = field.value;
    return values;
  };

  const same = (a, b) => Object.keys(a).every((name) => (b[name] ?? "") === (a[name] ?? ""));

  const banner = (form, className, text) => {
    const box = document.createElement("div");
    box.className = `card ${className}`;
    box.setAttribute("role", "alert");
    const paragraph = document.createElement("p");
    paragraph.textContent = text;
    box.append(paragraph);
    form.before(box);
    return box;
  };

  const keep = (form) => {
    const data = form.dataset;
    const prefix = `${PREFIX}${data.draftPage}:`;
    const key = `${prefix}v${data.draftVersion}`;
    const initial = valuesOf(form);

    const save = () => {
      const values = valuesOf(form);
      if (same(values, initial) && !storage.getItem(key)) return;
      storage.setItem(key, JSON.stringify({ at: new Date().toISOString(), values }));
    };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", save);

    // A kept draft: the one of this version first, else the newest of an older version.
    const kept = [];
    for (let index = 0; index < storage.length; index += 1) {
      const name = storage.key(index);
      if (!name || !name.startsWith(prefix)) continue;
      try {
        kept.push({ name, ...JSON.parse(storage.getItem(name)) });
      } catch (error) {
        storage.removeItem(name);
      }
    }
    kept.sort((a, b) => (a.name === key ? -1 : b.name === key ? 1 : b.at.localeCompare(a.at)));
    const draft = kept[0];
    if (!draft || !draft.values || same(draft.values, valuesOf(form))) return;

    const time = new Date(draft.at).toLocaleString();
    const box = banner(form, "draft-offer", data.draftFound.replace("{time}", time));
    if (draft.name !== key) {
      const note = document.createElement("p");
      note.textContent = data.draftOlder;
      box.append(note);
    }
    const restore = document.createElement("button");
    restore.type = "button";
    restore.textContent = data.draftRestore;
    restore.dataset.draftAction = "restore";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "secondary";
    discard.textContent = data.draftDiscard;
    discard.dataset.draftAction = "discard";
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    buttons.append(restore, discard);
    box.append(buttons);
    restore.addEventListener("click", () => {
      for (const field of fields(form)) {
        if (field.name in draft.values) field.value = draft.values[field.name];
      }
      if (draft.name !== key) storage.removeItem(draft.name);
      save();
      box.remove();
      form.querySelector("textarea, input, select")?.focus();
    });
    discard.addEventListener("click", () => {
      for (const item of kept) storage.removeItem(item.name);
      box.remove();
    });
  };

  const announceExpiry = (form) => {
    const seconds = Number.parseInt(form.dataset.sessionSeconds, 10);
    if (!Number.isFinite(seconds) || seconds <= 0) return;
    const warnAt = Math.max(seconds - 120, 0);
    const delay = (s) => Math.min(s * 1000, 2 ** 31 - 1);
    window.setTimeout(() => {
      const minutes = String(Math.max(1, Math.round((seconds - warnAt) / 60)));
      banner(form, "session-warning", form.dataset.sessionSoon.replace("{minutes}", minutes));
    }, delay(warnAt));
    window.setTimeout(() => {
      document.querySelector(".session-warning")?.remove();
      banner(form, "session-warning session-over", form.dataset.sessionOver);
    }, delay(seconds));
  };

  for (const form of document.querySelectorAll("form[data-keep-draft]")) {
    if (storage) keep(form);
    announceExpiry(form);
  }
})();
