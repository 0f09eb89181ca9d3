// The rich text editor (lessons, forum posts): Quill over the textarea marked data-editor. The
// field stays the form's value; the editor writes its HTML back into it when the form is sent, and
// says so in the form's body_format field when it has one (without JavaScript a forum post is
// plain text). The server cleans whatever arrives, so nothing here is a defence, only a
// convenience.
(() => {
  const field = document.querySelector("textarea[data-editor]");
  const box = document.getElementById("lesson-editor");
  if (!field || !box || !window.Quill) {
    return;
  }
  const toggle = document.getElementById("lesson-editor-toggle");
  const note = document.getElementById("lesson-editor-note");
  const label = document.querySelector(`label[for="${field.id}"]`);
  const Delta = window.Quill.import("delta");

  // A lesson's video (or allowed embed) as the lesson's HTML refers to it (docs/lesson-video.md):
  // a block the editor shows as a labelled box and writes back as
  // <figure data-video="ID"><figcaption>caption</figcaption></figure>.
  const BlockEmbed = window.Quill.import("blots/block/embed");
  class MediaReference extends BlockEmbed {
    static create(value) {
      const node = super.create();
      const kind = value.kind === "embed" ? "embed" : "video";
      node.setAttribute(`data-${kind}`, value.ref);
      node.setAttribute("contenteditable", "false");
      const label = kind === "embed" ? box.dataset.embedLabel : box.dataset.videoLabel;
      node.dataset.label = `${label} ${value.ref}`;
      if (value.caption) {
        const caption = document.createElement("figcaption");
        caption.textContent = value.caption;
        node.append(caption);
      }
      return node;
    }

    static value(node) {
      const embed = node.getAttribute("data-embed");
      return {
        kind: embed ? "embed" : "video",
        ref: embed || node.getAttribute("data-video") || "",
        caption: node.querySelector("figcaption")?.textContent || "",
      };
    }
  }
  MediaReference.blotName = "media-reference";
  MediaReference.tagName = "FIGURE";
  window.Quill.register(MediaReference, true);

  // Move the editor under the field's label, before its help text.
  field.after(box);
  box.after(note, toggle);

  const quill = new window.Quill("#lesson-editor-area", {
    theme: "snow",
    // Only what the server keeps: headings, emphasis, lists, quotations, links and platform images.
    formats: [
      "header",
      "bold",
      "italic",
      "underline",
      "list",
      "blockquote",
      "link",
      "image",
      "media-reference",
    ],
    modules: {
      toolbar: "#lesson-toolbar",
      // Dropped or pasted image files would become data: addresses, which the server removes;
      // images are lesson files, inserted from the Files panel.
      uploader: { mimetypes: [] },
    },
  });
  // Pasted top-level headings become the lesson's headings (the page keeps h1 for its title).
  quill.clipboard.addMatcher("H1", (node, delta) =>
    delta.compose(new Delta().retain(delta.length(), { header: 2 })),
  );

  quill.theme.tooltip.textbox.setAttribute("aria-label", box.dataset.linkLabel);
  // Quill writes its link tooltip's words in CSS; platform.css shows these, in the page's language.
  const tooltip = quill.theme.tooltip.root;
  tooltip.dataset.visit = box.dataset.tooltipVisit;
  tooltip.dataset.enter = box.dataset.tooltipEnter;
  Object.assign(tooltip.querySelector("a.ql-action").dataset, {
    edit: box.dataset.tooltipEdit,
    save: box.dataset.tooltipSave,
  });
  tooltip.querySelector("a.ql-remove").dataset.remove = box.dataset.tooltipRemove;

  const editable = quill.root;
  editable.setAttribute("role", "textbox");
  editable.setAttribute("aria-multiline", "true");
  if (label) {
    label.id ||= `${field.id}-label`;
    editable.setAttribute("aria-labelledby", label.id);
    label.addEventListener("click", () => {
      if (!box.hidden) {
        quill.focus();
      }
    });
  }
  if (field.hasAttribute("aria-describedby")) {
    editable.setAttribute("aria-describedby", field.getAttribute("aria-describedby"));
  }

  const holdsTable = (html) => /<table[\s>]/i.test(html);
  const editorHTML = () => (quill.getText().trim() || quill.root.querySelector("img, figure") ? quill.getSemanticHTML() : "");
  const imageButtons = document.querySelectorAll(
    "[data-insert-image], [data-insert-video], [data-insert-embed]",
  );
  const imageHints = document.querySelectorAll("[data-image-html], [data-video-html]");

  const showVisual = (visual) => {
    box.hidden = !visual;
    field.hidden = visual;
    toggle.textContent = visual ? box.dataset.source : box.dataset.visual;
    imageButtons.forEach((button) => {
      button.hidden = !visual;
    });
    imageHints.forEach((hint) => {
      hint.hidden = visual;
    });
  };

  const toVisual = () => {
    if (holdsTable(field.value)) {
      note.textContent = box.dataset.tableNote;
      note.hidden = false;
      return false;
    }
    note.hidden = true;
    quill.setContents(quill.clipboard.convert({ html: field.value }), "silent");
    quill.history.clear();
    showVisual(true);
    return true;
  };

  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    if (box.hidden) {
      if (toVisual()) {
        quill.focus();
      }
    } else {
      field.value = editorHTML();
      showVisual(false);
      field.focus();
    }
  });

  document.querySelectorAll("[data-insert-video]").forEach((button) => {
    button.addEventListener("click", () => {
      const caption = window.prompt(box.dataset.videoPrompt, "");
      if (caption === null) {
        return;
      }
      const range = quill.getSelection(true);
      const value = { kind: "video", ref: button.dataset.insertVideo, caption: caption.trim() };
      quill.insertEmbed(range.index, "media-reference", value, "user");
      quill.setSelection(range.index + 1, 0, "user");
    });
  });

  // A page of an allowed site: the server keeps it only if its host is on the list.
  document.querySelectorAll("[data-insert-embed]").forEach((button) => {
    button.addEventListener("click", () => {
      const address = window.prompt(box.dataset.embedPrompt, "https://");
      if (!address || !address.trim().startsWith("https://")) {
        return;
      }
      const caption = window.prompt(box.dataset.embedCaptionPrompt, "");
      const range = quill.getSelection(true);
      const value = { kind: "embed", ref: address.trim(), caption: (caption || "").trim() };
      quill.insertEmbed(range.index, "media-reference", value, "user");
      quill.setSelection(range.index + 1, 0, "user");
    });
  });

  document.querySelectorAll("[data-insert-image]").forEach((button) => {
    button.addEventListener("click", () => {
      const alt = window.prompt(box.dataset.altPrompt, "");
      if (alt === null) {
        return;
      }
      const range = quill.getSelection(true);
      quill.insertEmbed(range.index, "image", button.dataset.insertImage, "user");
      quill.formatText(range.index, 1, "alt", alt.trim(), "user");
      quill.setSelection(range.index + 1, 0, "user");
    });
  });

  const format = field.form.elements.namedItem("body_format");
  field.form.addEventListener("submit", () => {
    if (!box.hidden) {
      field.value = editorHTML();
    }
    if (format) {
      format.value = "html";
    }
  });

  if (!toVisual()) {
    showVisual(false);
  }
})();
