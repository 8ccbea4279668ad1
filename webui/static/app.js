() => {
  // Run once on page load (Blocks.launch js=). Clicking a citation marker in the chat ("[1]", a link to
  // #cite-<turn>-<c|r>-<n>) puts its key in a hidden textbox and presses a hidden button, whose handler shows
  // that clause in the source pane.
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#cite-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const key = a.getAttribute('href').slice('#cite-'.length);
    const box = document.querySelector('#cite-pick textarea, #cite-pick input');
    const btn = document.querySelector('#cite-pick-btn');
    if (!box || !btn) return;
    box.value = key;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => btn.click(), 30);
  }, true);
}
