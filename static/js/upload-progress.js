// Large uploads (webinar recordings) show their progress and are refused before sending when
// the file is larger than the platform takes. Forms with data-max-bytes are sent by
// XMLHttpRequest; the server answers with the page to go to, where its message is waiting.
// Without JavaScript the form is sent as usual.
document.querySelectorAll("form[data-max-bytes]").forEach((form) => {
  const input = form.querySelector("input[type=file]");
  const error = form.querySelector("[data-upload-error]");
  const progress = form.querySelector(".progress");
  const bar = progress.querySelector(".progress-bar");
  const button = form.querySelector("[type=submit]");

  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    progress.hidden = true;
    button.disabled = false;
  };

  form.addEventListener("submit", (event) => {
    const file = input.files[0];
    if (!file) {
      return; // the server says a file is needed
    }
    event.preventDefault();
    if (file.size > Number(form.dataset.maxBytes)) {
      fail(form.dataset.tooLarge);
      return;
    }
    error.hidden = true;
    progress.hidden = false;
    button.disabled = true;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (step) => {
      if (step.lengthComputable) {
        const percent = Math.floor((step.loaded / step.total) * 100);
        bar.style.width = `${percent}%`;
        progress.setAttribute("aria-valuenow", String(percent));
      }
    });
    request.addEventListener("load", () => {
      if (request.status === 413) {
        fail(form.dataset.tooLarge);
        return;
      }
      try {
        window.location.assign(JSON.parse(request.responseText).redirect);
      } catch {
        fail(form.dataset.failed);
      }
    });
    request.addEventListener("error", () => fail(form.dataset.failed));
    request.send(new FormData(form));
  });
});
