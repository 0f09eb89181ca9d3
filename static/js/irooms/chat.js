// The room chat (templates/irooms/_chat.html) over Socket.IO; the protocol is in irooms/chat.py.
// Messages are numbered per room (seq): the list is kept in seq order, a message arriving again
// with a known seq replaces the shown one (edits, removals), and after a reconnection the client
// asks for what came after the last seq up to which it holds every message. Message text only ever goes in through
// textContent. It asks the same when a live message shows a gap, or when the server says
// "resync" (its message queue was away and may have dropped live messages). Every visible text
// comes translated from the page's data-text-* attributes.
(() => {
  const root = document.getElementById("room-chat");
  if (!root || typeof window.io !== "function") {
    return;
  }
  const roomId = Number(root.dataset.roomId);
  const readOnly = root.dataset.readOnly === "true";
  const locale = document.documentElement.lang || undefined;
  const EDIT_WINDOW_MS = 10 * 60 * 1000;
  const ACK_TIMEOUT_MS = 5000;
  const TYPING_EVERY_MS = 3000;
  const TYPING_SHOWN_MS = 4000;
  const HISTORY_PAGE = 50;
  // A live message may overtake the one before it by a moment: a gap is fetched if still open
  // after the first wait. After a "resync" the page waits a random moment up to the second, so
  // that the connections of a whole server do not all ask at once.
  const GAP_WAIT_MS = 500;
  const RESYNC_SPREAD_MS = 1000;

  const log = root.querySelector("[data-chat-log]");
  const form = root.querySelector("[data-chat-form]");
  const textarea = form.querySelector("textarea");
  const sendButton = form.querySelector("button[type=submit]");
  const errorLine = root.querySelector("[data-chat-error]");
  const connectionLine = root.querySelector("[data-chat-connection]");
  const presenceLine = root.querySelector("[data-chat-presence]");
  const online = new Map(); // id -> name of who is in the room now
  const typingLine = root.querySelector("[data-chat-typing]");
  const noticeLine = root.querySelector("[data-chat-notice]");
  const earlierButton = root.querySelector("[data-chat-earlier]");
  const moderation = root.querySelector("[data-chat-moderation]");
  const lockButton = root.querySelector("[data-chat-lock]");

  // data-text-error-too-long -> text("errorTooLong"); {name}/{names} filled from `values`.
  const text = (key, values = {}) =>
    (root.dataset[`text${key[0].toUpperCase()}${key.slice(1)}`] || "").replace(
      /\{(\w+)\}/g,
      (whole, name) => (name in values ? values[name] : whole),
    );
  // error code "too_long" -> data-text-error-too-long, or the general error text.
  const errorText = (code) => {
    const words = String(code || "other").split("_").filter(Boolean);
    const key = words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
    return root.dataset[`textError${key}`] || text("errorOther");
  };
  const listFormat =
    typeof Intl.ListFormat === "function"
      ? new Intl.ListFormat(locale, { type: "conjunction" })
      : { format: (items) => items.join(", ") };
  const timeToday = new Intl.DateTimeFormat(locale, { hour: "numeric", minute: "2-digit" });
  const timeOther = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  const timeFull = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "long" });

  const state = {
    me: null,
    role: null,
    canModerate: false,
    locked: false,
    muted: false,
    gone: false, // removed from the room: nothing more is sent
    joined: false,
    complete: null, // every message up to this seq has arrived (null before the first join)
  };
  const shown = new Map(); // seq -> {message, element}
  const pending = new Map(); // client_id -> {body, element, timer}
  const mutedAuthors = new Set(); // who is muted, as the server says on joining, then as changed
  const typists = new Map(); // user id -> {name, timer}
  let lastTypingSent = 0;
  let loadingEarlier = false;
  let newestLive = 0; // the highest seq received live
  let catchUpTimer = null;
  let resyncAsked = false;

  const socket = window.io({ transports: ["websocket", "polling"] });

  // Message rendering.
  const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
  const TRAILING = /[.,;:!?)\]}'"»”’]+$/;

  // The text as text nodes, with http(s) addresses turned into links that open a new tab.
  const withLinks = (body) => {
    const fragment = document.createDocumentFragment();
    let at = 0;
    for (const match of body.matchAll(URL_PATTERN)) {
      let address = match[0];
      const trailing = address.match(TRAILING);
      if (trailing) {
        address = address.slice(0, -trailing[0].length);
      }
      let url;
      try {
        url = new URL(address);
      } catch {
        continue;
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        continue;
      }
      fragment.append(document.createTextNode(body.slice(at, match.index)));
      const link = document.createElement("a");
      link.href = url.href;
      link.textContent = address;
      link.rel = "noopener noreferrer nofollow";
      link.target = "_blank";
      fragment.append(link);
      at = match.index + address.length;
    }
    fragment.append(document.createTextNode(body.slice(at)));
    return fragment;
  };

  const formatTime = (iso) => {
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) {
      return ["", ""];
    }
    const today = moment.toDateString() === new Date().toDateString();
    return [(today ? timeToday : timeOther).format(moment), timeFull.format(moment)];
  };

  const button = (label, action, extraClass = "") => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = `btn btn-link btn-sm p-0 ${extraClass}`.trim();
    element.textContent = label;
    element.dataset.action = action;
    return element;
  };

  const canRemoveAny = () =>
    state.canModerate || state.role === "host" || state.role === "expert";

  const actionsFor = (message) => {
    const actions = [];
    if (message.removed || state.gone || readOnly) {
      return actions;
    }
    const mine = message.author.id === state.me;
    const fresh = Date.now() - new Date(message.at).getTime() < EDIT_WINDOW_MS;
    if (mine) {
      if (fresh && !state.muted) {
        actions.push(button(text("edit"), "edit"));
      }
      if (fresh || canRemoveAny()) {
        actions.push(button(text("delete"), "delete", "text-danger"));
      }
    } else {
      if (canRemoveAny()) {
        actions.push(button(text("remove"), "remove", "text-danger"));
      }
      if (state.canModerate && message.author.id !== null) {
        const muted = mutedAuthors.has(message.author.id);
        actions.push(
          button(text(muted ? "unmute" : "mute", { name: message.author.name }), muted ? "unmute" : "mute"),
        );
      }
    }
    return actions;
  };

  const renderMessage = (message, element = document.createElement("li")) => {
    element.replaceChildren();
    element.className = "room-chat-message";
    element.dataset.seq = String(message.seq);
    delete element.dataset.pending;
    delete element.dataset.clientId;
    if (message.removed) {
      element.classList.add("room-chat-removed");
    }
    const header = document.createElement("div");
    header.className = "room-chat-meta small";
    const author = document.createElement("strong");
    author.textContent = message.author.name;
    author.dir = "auto"; // a name in another script stays apart from the time beside it
    const time = document.createElement("time");
    time.dateTime = message.at;
    [time.textContent, time.title] = formatTime(message.at);
    time.className = "text-body-secondary ms-2";
    header.append(author, time);
    if (message.edited && !message.removed) {
      const edited = document.createElement("span");
      edited.className = "text-body-secondary ms-1";
      edited.textContent = text("edited");
      header.append(edited);
    }
    const body = document.createElement("div");
    body.className = "room-chat-body";
    body.dir = "auto"; // a message keeps its own direction whatever the page's
    if (message.removed) {
      const mark = document.createElement("em");
      mark.className = "text-body-secondary";
      mark.textContent = text("removed");
      body.append(mark);
    } else {
      body.append(withLinks(message.body));
    }
    element.append(header, body);
    renderActions(message, element);
    return element;
  };

  // The buttons under a message; replaced only when they change, so that a screen reader
  // following the log does not hear the messages again.
  const renderActions = (message, element) => {
    // Messages of the first page arrive before the join answer says who "me" is.
    element.classList.toggle("room-chat-mine", message.author.id === state.me);
    const actions = actionsFor(message);
    const signature = actions.map((action) => action.textContent).join("|");
    const bar = element.querySelector(".room-chat-actions");
    if (bar && bar.dataset.signature === signature) {
      return;
    }
    bar?.remove();
    if (actions.length) {
      const newBar = document.createElement("div");
      newBar.className = "room-chat-actions small";
      newBar.dataset.signature = signature;
      newBar.append(...actions);
      element.append(newBar);
    }
  };

  const refreshActions = () => {
    for (const { message, element } of shown.values()) {
      if (!element.querySelector(".room-chat-edit")) {
        renderActions(message, element);
      }
    }
  };

  // The number up to which every message has arrived. Live messages can come out of order
  // (two people post at once), so after a reconnection the page asks for what came after this
  // number, not after the highest it shows: a message still on its way when the connection
  // dropped is then fetched again rather than lost.
  const advanceComplete = () => {
    if (state.complete === null) {
      return;
    }
    while (shown.has(state.complete + 1)) {
      state.complete += 1;
    }
  };
  const lowestSeq = () => (shown.size ? Math.min(...shown.keys()) : null);

  const updateEarlierButton = () => {
    const lowest = lowestSeq();
    earlierButton.hidden = lowest === null || lowest <= 1;
  };

  const updateEmptyLine = () => {
    let empty = log.querySelector("[data-empty]");
    if (log.querySelector(".room-chat-message")) {
      empty?.remove();
    } else if (!empty && state.joined) {
      empty = document.createElement("li");
      empty.dataset.empty = "";
      empty.className = "text-body-secondary small";
      empty.textContent = text("emptyLog");
      log.append(empty);
    }
  };

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;

  // Puts the message in seq order, or replaces the one shown with the same seq.
  const show = (message) => {
    if (!message || message.room !== roomId || !Number.isInteger(message.seq)) {
      return;
    }
    const known = shown.get(message.seq);
    if (known) {
      known.message = message;
      if (!known.element.querySelector(".room-chat-edit")) {
        renderMessage(message, known.element);
      }
      return;
    }
    const stick = nearBottom();
    const element = renderMessage(message);
    shown.set(message.seq, { message, element });
    advanceComplete();
    let next = null;
    for (const [seq, entry] of shown) {
      if (seq > message.seq && (next === null || seq < next.seq)) {
        next = { seq, element: entry.element };
      }
    }
    log.insertBefore(element, next ? next.element : log.querySelector("[data-pending]"));
    updateEmptyLine();
    if (next === null && stick) {
      log.scrollTop = log.scrollHeight;
    }
  };

  // The form and the state lines.
  const showError = (message) => {
    errorLine.textContent = message || "";
  };

  const updateForm = () => {
    let notice = ""; // after a removal, the error line (an alert) says it
    if (state.gone) {
      notice = "";
    } else if (readOnly) {
      notice = text("readOnlyNotice");
    } else if (state.muted) {
      notice = text("mutedNotice");
    } else if (state.locked) {
      notice = state.canModerate ? text("lockedHostNotice") : text("lockedNotice");
    }
    noticeLine.textContent = notice;
    noticeLine.hidden = !notice;
    const closed = state.gone || readOnly || state.muted || (state.locked && !state.canModerate);
    textarea.disabled = closed;
    sendButton.disabled = closed;
    moderation.hidden = !state.canModerate || state.gone || readOnly;
    lockButton.textContent = state.locked ? text("unlock") : text("lock");
    lockButton.setAttribute("aria-pressed", state.locked ? "true" : "false");
  };

  const updateTyping = () => {
    const names = [...typists.values()].map((typist) => typist.name);
    if (!names.length) {
      typingLine.textContent = "";
    } else if (names.length === 1) {
      typingLine.textContent = text("typingOne", { name: names[0] });
    } else {
      typingLine.textContent = text("typingMany", { names: listFormat.format(names) });
    }
  };

  // Sending, with retries under the same client_id until the server acknowledges.
  const newClientId = () =>
    typeof crypto.randomUUID === "function"
      ? crypto.randomUUID()
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
          byte.toString(16).padStart(2, "0"),
        ).join("");

  const transmit = (clientId) => {
    const entry = pending.get(clientId);
    if (!entry || !socket.connected || !state.joined) {
      return; // sent again after the next join
    }
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => transmit(clientId), ACK_TIMEOUT_MS);
    socket.emit("send", { room: roomId, client_id: clientId, body: entry.body }, (answer) => {
      const current = pending.get(clientId);
      if (!current) {
        return; // a late answer to an earlier try
      }
      clearTimeout(current.timer);
      pending.delete(clientId);
      current.element.remove();
      if (answer && answer.ok) {
        showError("");
        return;
      }
      showError(errorText(answer && answer.error));
      if (!textarea.value) {
        textarea.value = current.body; // give the text back, nothing is lost
      }
      if (answer && answer.error === "muted") {
        state.muted = true;
      } else if (answer && answer.error === "locked") {
        state.locked = true;
      }
      updateForm();
      updateEmptyLine();
    });
  };

  const send = () => {
    const body = textarea.value.trim();
    if (!body) {
      showError(text("errorEmpty"));
      return;
    }
    if (body.length > 4000) {
      showError(text("errorTooLong"));
      return;
    }
    showError("");
    const clientId = newClientId();
    const element = document.createElement("li");
    element.className = "room-chat-message room-chat-mine room-chat-pending";
    element.dataset.pending = "";
    element.dataset.clientId = clientId;
    const meta = document.createElement("div");
    meta.className = "room-chat-meta small text-body-secondary";
    meta.textContent = text("sending");
    const content = document.createElement("div");
    content.className = "room-chat-body";
    content.dir = "auto";
    content.append(withLinks(body));
    element.append(meta, content);
    log.append(element);
    log.scrollTop = log.scrollHeight;
    pending.set(clientId, { body, element, timer: null });
    textarea.value = "";
    updateEmptyLine();
    transmit(clientId);
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!textarea.disabled) {
        send();
      }
    }
  });

  textarea.addEventListener("input", () => {
    const now = Date.now();
    if (textarea.value && socket.connected && state.joined && now - lastTypingSent > TYPING_EVERY_MS) {
      lastTypingSent = now;
      socket.emit("typing", { room: roomId });
    }
  });

  // Acting on a message: edit, delete, remove, mute.
  const ask = (event, payload, done) => {
    if (!socket.connected) {
      showError(text("reconnecting"));
      return;
    }
    socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timedOut, answer) => {
      if (timedOut) {
        showError(text("errorTimeout"));
      } else if (!answer || !answer.ok) {
        showError(errorText(answer && answer.error));
      } else {
        showError("");
        done?.(answer);
      }
    });
  };

  const startEditing = (entry) => {
    const { message, element } = entry;
    const body = element.querySelector(".room-chat-body");
    const editor = document.createElement("form");
    editor.className = "room-chat-edit";
    const id = `room-chat-edit-${message.seq}`;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = id;
    label.textContent = text("editLabel");
    const field = document.createElement("textarea");
    field.className = "form-control form-control-sm";
    field.id = id;
    field.rows = 2;
    field.maxLength = 4000;
    field.value = message.body;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn-primary btn-sm";
    save.textContent = text("save");
    const cancel = button(text("cancel"), "cancel-edit");
    cancel.className = "btn btn-outline-secondary btn-sm";
    const bar = document.createElement("div");
    bar.className = "d-flex gap-2 mt-1";
    bar.append(save, cancel);
    editor.append(label, field, bar);
    body.replaceWith(editor);
    element.querySelector(".room-chat-actions")?.remove();
    field.focus();
    const finish = () => renderMessage(entry.message, element);
    cancel.addEventListener("click", finish);
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        finish();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        editor.requestSubmit();
      }
    });
    editor.addEventListener("submit", (event) => {
      event.preventDefault();
      const changed = field.value.trim();
      if (!changed) {
        showError(text("errorEmpty"));
        return;
      }
      if (changed === message.body) {
        finish();
        return;
      }
      // The server sends the edited message back to everyone, this page included.
      ask("edit", { room: roomId, seq: message.seq, body: changed }, finish);
    });
  };

  log.addEventListener("click", (event) => {
    const target = event.target.closest("button[data-action]");
    if (!target || target.dataset.action === "cancel-edit") {
      return;
    }
    const element = target.closest("[data-seq]");
    const entry = element && shown.get(Number(element.dataset.seq));
    if (!entry) {
      return;
    }
    const { message } = entry;
    switch (target.dataset.action) {
      case "edit":
        startEditing(entry);
        break;
      case "delete":
      case "remove": {
        const question =
          target.dataset.action === "delete"
            ? text("confirmDelete")
            : text("confirmRemove", { name: message.author.name });
        if (window.confirm(question)) {
          ask("delete", { room: roomId, seq: message.seq });
        }
        break;
      }
      case "mute":
      case "unmute": {
        const muted = target.dataset.action === "mute";
        ask("mute", { room: roomId, user: message.author.id, muted }, () => {
          if (muted) {
            mutedAuthors.add(message.author.id);
          } else {
            mutedAuthors.delete(message.author.id);
          }
          noticeLine.hidden = false;
          noticeLine.textContent = text(muted ? "mutedSomeone" : "unmutedSomeone", {
            name: message.author.name,
          });
          refreshActions();
        });
        break;
      }
      default:
        break;
    }
  });

  lockButton.addEventListener("click", () => {
    ask("lock", { room: roomId, locked: !state.locked });
  });

  earlierButton.addEventListener("click", () => {
    const before = lowestSeq();
    if (before === null || loadingEarlier) {
      return;
    }
    loadingEarlier = true;
    earlierButton.disabled = true;
    const height = log.scrollHeight;
    socket.timeout(ACK_TIMEOUT_MS).emit(
      "history",
      { room: roomId, before, limit: HISTORY_PAGE },
      (timedOut, answer) => {
        loadingEarlier = false;
        earlierButton.disabled = false;
        if (timedOut || !answer || !answer.ok) {
          showError(timedOut ? text("errorTimeout") : errorText(answer && answer.error));
          return;
        }
        answer.messages.forEach(show);
        log.scrollTop += log.scrollHeight - height; // keep the reader where they were
        updateEarlierButton();
      },
    );
  });

  // The connection.
  const join = () => {
    socket.emit("join", { room: roomId, after: state.complete }, (answer) => {
      if (!answer || !answer.ok) {
        state.joined = false;
        showError(errorText(answer && answer.error));
        if (answer && answer.error === "not_found") {
          state.gone = true;
          updateForm();
        }
        return;
      }
      state.joined = true;
      // Every message up to answer.last came before this answer (what was missed) or is history.
      state.complete = Math.max(state.complete ?? 0, answer.last);
      advanceComplete();
      state.me = answer.me;
      state.role = answer.role;
      state.canModerate = Boolean(answer.can_moderate);
      state.locked = Boolean(answer.locked);
      state.muted = Boolean(answer.muted);
      mutedAuthors.clear();
      (answer.muted_users || []).forEach((id) => mutedAuthors.add(id));
      connectionLine.textContent = "";
      connectionLine.hidden = true;
      updateForm();
      refreshActions();
      updateEarlierButton();
      updateEmptyLine();
      for (const clientId of pending.keys()) {
        transmit(clientId);
      }
    });
  };

  socket.on("connect", () => {
    if (state.gone) {
      socket.disconnect();
      return;
    }
    join();
  });

  // Joining again after the complete seq fetches what is missing, as after a reconnection: once
  // for a burst of messages past a gap, or of resyncs.
  const catchUp = (wait) => {
    if (catchUpTimer !== null) {
      return;
    }
    catchUpTimer = setTimeout(() => {
      catchUpTimer = null;
      const gap = state.complete !== null && newestLive > state.complete;
      const asked = resyncAsked;
      resyncAsked = false;
      if ((asked || gap) && socket.connected && !state.gone) {
        join();
      }
    }, wait);
  };

  socket.on("resync", () => {
    resyncAsked = true;
    catchUp(Math.random() * RESYNC_SPREAD_MS);
  });

  socket.on("disconnect", (reason) => {
    state.joined = false;
    typists.clear();
    updateTyping();
    online.clear();
    presenceLine.textContent = "";
    if (state.gone) {
      return;
    }
    connectionLine.hidden = false;
    // Closed by the server (the login ended): Socket.IO does not reconnect by itself then.
    connectionLine.textContent =
      reason === "io server disconnect" ? text("disconnected") : text("reconnecting");
  });

  socket.on("connect_error", () => {
    if (state.gone) {
      return;
    }
    connectionLine.hidden = false;
    connectionLine.textContent = socket.active ? text("reconnecting") : text("disconnected");
  });

  socket.on("messages", (page) => {
    if (Array.isArray(page)) {
      page.forEach(show);
      updateEarlierButton();
    }
  });

  socket.on("message", (message) => {
    show(message);
    if (message && message.room === roomId && Number.isInteger(message.seq)) {
      newestLive = Math.max(newestLive, message.seq);
      if (state.complete !== null && newestLive > state.complete) {
        catchUp(GAP_WAIT_MS);
      }
    }
    if (message && message.author && typists.has(message.author.id)) {
      clearTimeout(typists.get(message.author.id).timer);
      typists.delete(message.author.id);
      updateTyping();
    }
  });

  // Who is online: the whole list when joining, then who arrives and who leaves.
  const showOnline = () => {
    const names = [...online.values()].sort((a, b) => a.localeCompare(b));
    presenceLine.textContent = names.length ? text("online", { names: listFormat.format(names) }) : "";
  };

  socket.on("presence", (data) => {
    if (!data || data.room !== roomId || !Array.isArray(data.online)) {
      return;
    }
    online.clear();
    data.online.forEach((person) => online.set(person.id, person.name));
    showOnline();
  });

  socket.on("online", (data) => {
    if (data && data.room === roomId && data.user) {
      online.set(data.user.id, data.user.name);
      showOnline();
    }
  });

  socket.on("offline", (data) => {
    if (data && data.room === roomId) {
      online.delete(data.user);
      showOnline();
    }
  });

  socket.on("typing", (data) => {
    if (!data || data.room !== roomId || !data.user || data.user.id === state.me) {
      return;
    }
    const known = typists.get(data.user.id);
    if (known) {
      clearTimeout(known.timer);
    }
    const timer = setTimeout(() => {
      typists.delete(data.user.id);
      updateTyping();
    }, TYPING_SHOWN_MS);
    typists.set(data.user.id, { name: data.user.name, timer });
    updateTyping();
  });

  socket.on("room_state", (data) => {
    if (data && data.room === roomId) {
      state.locked = Boolean(data.locked);
      updateForm();
    }
  });

  socket.on("muted", (data) => {
    if (data && data.room === roomId) {
      state.muted = Boolean(data.muted);
      updateForm();
      refreshActions();
    }
  });

  socket.on("removed", (data) => {
    if (!data || data.room !== roomId) {
      return;
    }
    state.gone = true;
    state.joined = false;
    for (const entry of pending.values()) {
      clearTimeout(entry.timer);
      entry.element.remove();
    }
    pending.clear();
    connectionLine.hidden = true;
    showError(text("goneNotice"));
    updateForm();
    refreshActions();
    earlierButton.hidden = true;
    socket.disconnect();
  });

  // Own messages lose their Edit and Delete buttons when the 10 minutes are over.
  setInterval(() => {
    if (state.joined) {
      refreshActions();
    }
  }, 30 * 1000);

  updateForm();
})();
