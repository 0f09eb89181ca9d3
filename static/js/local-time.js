// Times written by the server, as <time datetime="2026-03-14T14:00:00Z" data-local-time>, are
// rewritten in the page's language and in the time zone the person chose on their profile (the
// <html data-time-zone> attribute), or the browser's own for visitors; the server's text stays as
// the tooltip. data-local-time is "full", "medium", or "end" for the end of a range, which gives only
// the time when it falls on the same local day as its data-start.
// Intl refuses timeZoneName beside dateStyle/timeStyle, hence the separate parts below.
(() => {
  const locale = document.documentElement.lang || undefined;
  const timeZone = document.documentElement.dataset.timeZone || undefined;
  const clock = { hour: "numeric", minute: "2-digit", timeZoneName: "short", timeZone };
  const styles = {
    full: { weekday: "long", year: "numeric", month: "long", day: "numeric", ...clock },
    medium: { year: "numeric", month: "short", day: "numeric", ...clock },
    time: clock,
  };
  const formatters = {};
  const format = (style, moment) => {
    formatters[style] ??= new Intl.DateTimeFormat(locale, styles[style]);
    return formatters[style].format(moment);
  };
  const dayFormat = new Intl.DateTimeFormat("en", { dateStyle: "short", timeZone });
  const localDay = (moment) => dayFormat.format(moment);

  document.querySelectorAll("time[data-local-time]:not([data-local-done])").forEach((element) => {
    const moment = new Date(element.dateTime);
    if (Number.isNaN(moment.getTime())) {
      return;
    }
    let style = element.dataset.localTime || "medium";
    if (style === "end") {
      const start = new Date(element.dataset.start);
      style = localDay(start) === localDay(moment) ? "time" : "medium";
    }
    if (!(style in styles)) {
      return;
    }
    element.title = element.textContent.trim();
    element.textContent = format(style, moment);
    element.dataset.localDone = "";
  });
})();
