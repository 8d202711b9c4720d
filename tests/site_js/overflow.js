() => {
  const vw = document.documentElement.clientWidth, bad = [];
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  for (const el of document.querySelectorAll('article *')) {
    if (el.closest('mjx-assistive-mml')) continue;  // MathJax's copy for screen readers, clipped to nothing
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= vw + 1) continue;
    let a = el.parentElement, ok = false;
    while (a && a !== document.body) {
      if (scrolls(a) && a.getBoundingClientRect().right <= vw + 1) { ok = true; break; }
      a = a.parentElement;
    }
    if (!ok && !scrolls(el)) bad.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ends at ${Math.round(r.right)}px`);
  }
  if (document.documentElement.scrollWidth > vw + 1) bad.unshift(`the page scrolls sideways (${document.documentElement.scrollWidth}px wide)`);
  return bad;
}
