// A part of a form marked data-shown-by="field" data-shown-for="value value" is shown only while
// that field of its form holds one of those values (a question's choices, for the kinds that have
// them). Without JavaScript every part stays shown.
document.querySelectorAll("[data-shown-by]").forEach((part) => {
  const field = part.closest("form").elements[part.dataset.shownBy];
  const values = part.dataset.shownFor.split(" ");
  const update = () => {
    part.hidden = !values.includes(field.value);
  };
  field.addEventListener("change", update);
  update();
});
