// A new account starts in the browser's own time zone: the registration form's select is set to it
// when the list has it. The person sees the choice and can change it; without JavaScript it is UTC.
(() => {
  const select = document.querySelector("select[data-detect-time-zone]");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (select && [...select.options].some((option) => option.value === zone)) {
    select.value = zone;
  }
})();
