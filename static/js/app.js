// Plan Tracker's only script: small behaviours declared with data attributes, so that the
// Content-Security-Policy can forbid inline scripts. Every page works without it.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches("[data-autosubmit]")) field.form.submit();
  if (field.matches("[data-navigate]")) window.location = field.value;
});
document.addEventListener("click", (event) => {
  if (event.target.matches("[data-print]")) window.print();
});
