// The bell in the header: its unread count, kept up to date over Socket.IO (the /notifications
// namespace) without reloading the page. The server sends "unread" on connecting and whenever the
// count changes; the words for screen readers come from the page, in its language.
(() => {
  const bells = document.querySelectorAll("[data-notification-bell]");
  if (bells.length === 0 || !window.io) {
    return;
  }
  const number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const show = (count) => {
    for (const bell of bells) {
      const badge = bell.querySelector("[data-unread-count]");
      const words = bell.querySelector("[data-unread-words]");
      badge.textContent = number.format(count);
      badge.classList.toggle("d-none", count === 0);
      words.textContent = count === 0 ? "" : words.dataset.template.replace("{n}", number.format(count));
      bell.dataset.unread = String(count);
    }
  };
  const socket = window.io("/notifications", { transports: ["websocket", "polling"] });
  socket.on("unread", (data) => {
    if (data && Number.isInteger(data.count)) {
      show(data.count);
    }
  });
})();
