// Placeholder: the Timeline view is coming (issue #15, built on its own branch).

export function mount(root) {
  const note = document.createElement("p");
  note.className = "placeholder";
  note.textContent = "Timeline is coming.";
  root.append(note);
}
