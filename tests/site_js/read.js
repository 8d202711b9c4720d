(cfg) => {
  const out = {rawTex: [], rawMarkup: [], wideMath: [], noCue: [], inlineBox: [], wideCode: [], images: [], handRefs: [], devStrings: [],
               exerciseTitles: [], h2: []};
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const clip = (s, i, n) => s.slice(Math.max(0, i - n), i + n).replace(/\s+/g, ' ').trim();

  // (a) TeX or a dollar left as text anywhere on the page (sidebars included), outside code and MathJax.
  const tex = [
    [/\$(?!\s?\d)/g, 'a "$" that is not a price'],
    [/\\(?:[A-Za-z]{2,}|[()\[\]{},;!|])/g, 'a TeX command'],
    [/[_^]\{/g, 'a TeX sub/superscript'],
  ];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(cfg.notProse)) continue;
    const s = n.nodeValue;
    for (const [re, what] of tex) {
      re.lastIndex = 0;
      const m = re.exec(s);
      if (m) out.rawTex.push(`${what}: "${clip(s, m.index, 40)}"`);
    }
    // (a') MyST markup left as text: a directive's fence (```{name}, :::{name}) or a role
    const mk = /(?:`{3,}|:{3,})\{[\w:-]+\}|\{(?:doc|numref|ref|eq|cite(?::\w+)?|math)\}`/.exec(s);
    if (mk && !el.closest('pre, code')) out.rawMarkup.push(`"${clip(s, mk.index, 40)}"`);
  }

  // (b) display formulas: wider than their column (they scroll) and, if so, a visible cue;
  // inline formulas: never a scroll box.
  const texOf = new Map();
  try { for (const item of MathJax.startup.document.math) texOf.set(item.typesetRoot, item.math); } catch (e) {}
  for (const el of article.querySelectorAll('mjx-container')) {
    const src = (texOf.get(el) || el.textContent || '').replace(/\s+/g, ' ').slice(0, 70);
    if (el.getAttribute('display') === 'true') {
      if (el.scrollWidth > el.clientWidth + 1) {
        out.wideMath.push(`${el.scrollWidth}px in a ${el.clientWidth}px column: ${src}`);
        const bg = getComputedStyle(el).backgroundImage || '';
        if (!bg.includes('gradient')) out.noCue.push(`${src}`);
      }
    } else {
      const cs = getComputedStyle(el);
      if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible' || el.scrollWidth > el.clientWidth + 1 && cs.overflowX !== 'visible')
        out.inlineBox.push(`overflow ${cs.overflowX}: ${src}`);
    }
  }

  // (b') code and printed output: a line wider than its box is cut off at desktop width.
  for (const pre of article.querySelectorAll('div.cell_input pre, div.cell_output pre')) {
    if (pre.scrollWidth > pre.clientWidth + 1) {
      const line = pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '');
      out.wideCode.push(`${pre.scrollWidth}px in a ${pre.clientWidth}px box: ${line.trim().slice(0, 60)}`);
    }
  }

  // (d) every content image: in a numbered, captioned figure, with alt text that says something.
  for (const img of article.querySelectorAll('img')) {
    if (img.closest('.jupyter-widgets, .widget-output, nav, header')) continue;  // a widget's saved frame
    if (img.naturalWidth && img.naturalWidth < 48 && img.naturalHeight < 48) continue;  // an icon
    const reasons = [];
    const fig = img.closest('figure');
    const cap = fig && fig.querySelector('figcaption');
    if (!cap) reasons.push('no caption');
    else {
      if (!cap.querySelector('.caption-number')) reasons.push('no figure number');
      const words = cap.textContent.replace(cap.querySelector('.caption-number')?.textContent || '', '').trim();
      if (words.length < 10) reasons.push('an empty caption');
    }
    const alt = (img.getAttribute('alt') || '').trim();
    if (!alt) reasons.push('no alt text');
    else if (/\.(png|jpe?g|svg|gif|webp)$/i.test(alt) || (/[\/\\]/.test(alt) && !/\s/.test(alt))) reasons.push(`alt text is a file path (${alt.slice(0, 50)})`);
    else if (alt.length < 10) reasons.push(`alt text too short (${alt})`);
    if (reasons.length) out.images.push(`${(img.getAttribute('src') || '').split('/').pop()}: ${reasons.join(', ')}`);
  }

  // (e) "Exercise 3", "Theorem 5.1", "Figure 2", "chapter 4" ... written by hand. Generated references
  // (a.reference), generated numbers (.caption-number, .section-number) are replaced by tokens; a
  // number followed by "of"/"in" and a citation or a name is someone else's ("Theorem 3 of Bubeck
  // and Sellke").
  const clone = article.cloneNode(true);
  clone.querySelectorAll(cfg.notProse).forEach(e => e.remove());
  clone.querySelectorAll('a').forEach(a => {
    const href = a.getAttribute('href') || '';
    const cite = /bibliography|#id\d/.test(href) || a.closest('.cite, span[id^="id"]');
    a.replaceWith(document.createTextNode(cite ? ' ⟦cite⟧ ' : ' ⟦ref⟧ '));
  });
  clone.querySelectorAll('.caption-number, .section-number, .headerlink').forEach(e => e.replaceWith(document.createTextNode(' ⟦num⟧ ')));
  const num = String.raw`\(?\d+(?:\.\d+)*[a-z]?\)?(?:\s*(?:–|-|,|and|or|to)\s*\(?\d+(?:\.\d+)*\)?)*`;
  const words = String.raw`exercises?|theorems?|figures?|figs?\.|definitions?|lemmas?|propositions?|corollar(?:y|ies)|conjectures?|chapters?|sections?|equations?|eqs?\.|tables?|examples?|remarks?|assumptions?`;
  const hand = new RegExp(String.raw`\b(?:${words})\s*${num}(?![\d.]*\s*(?:%|px|×))`, 'gi');
  const theirs = /^\s*(?:of|in|from)\s+(?:⟦cite⟧|the\s+(?:paper|preprint|article|arXiv|original|appendix|supplement)|their|[A-Z])/;
  // ... or preceded by whose it is: a citation, "Ball 1997, lemma 2.2", "Bubeck–Li–Nagaraj, Conjecture 1",
  // "Bubeck and Sellke's Theorem 3".
  const theirsBefore = /(?:⟦cite⟧\s*\]?\s*[,(]?|\b(?:19|20)\d\d[a-z]?\s*[,;]|[A-Z][\w\u00C0-\u017F–-]+\s*,|[A-Z][\w\u00C0-\u017F–-]+[’']s|\b[Tt]heir|\bthe (?:paper|preprint|article|authors)[’']s?)\s*\(?$/;
  for (const block of clone.querySelectorAll(cfg.blocks)) {
    const own = block.cloneNode(true);
    own.querySelectorAll(cfg.blocks).forEach(e => e.remove());
    const s = own.textContent.replace(/\s+/g, ' ');
    hand.lastIndex = 0;
    for (let m = hand.exec(s); m; m = hand.exec(s)) {
      if (theirs.test(s.slice(m.index + m[0].length)) || theirsBefore.test(s.slice(Math.max(0, m.index - 40), m.index))) continue;
      out.handRefs.push(`"${clip(s, m.index + 10, 45)}"`);
    }
  }

  // (f) build noise and developer notes in the prose and the outputs (not in the code cells).
  const dev = [
    [/namespace\(/, 'a namespace dump'], [/Sequential\(/, 'a model repr'],
    [/\bS\.[a-z_][a-z0-9_]*/, 'a scale field name'],
    [/not yet validated|has not (?:yet )?been (?:run|validated)|\bTODO\b|\bFIXME\b|\bXXX\b/i, 'a developer note'],
    [/<function [\w.]+|<[\w.]+ object at 0x/, 'a function or object repr'],
    [/\b(Exercise|Figure|Theorem|Lemma|Proposition|Definition|Section|Table|Equation)\s+\1\b/i,
     'a doubled reference word'],
  ];
  if (cfg.chapter) dev.push([/\b(?!LAWLIB_)[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b/, 'a constant name']);
  const noisy = article.cloneNode(true);
  noisy.querySelectorAll('script, style, .cell_input, mjx-container, div[class*="highlight-"]:not(.output)').forEach(e => e.remove());
  for (const block of noisy.querySelectorAll(cfg.blocks + ', pre, .output')) {
    const own = block.cloneNode(true);
    own.querySelectorAll(cfg.blocks + ', pre, .output').forEach(e => e.remove());
    const s = own.textContent;
    for (const [re, what] of dev) {
      const m = re.exec(s);
      if (m) out.devStrings.push(`${what}: "${clip(s, m.index + 5, 40)}"`);
    }
  }

  // (g) exercise titles; (h) the section headings of the page.
  for (const t of article.querySelectorAll('div.exercise p.admonition-title, .exercise .admonition-title'))
    out.exerciseTitles.push(t.textContent.replace(/\s+/g, ' ').trim());
  for (const h of article.querySelectorAll('h2'))
    out.h2.push(Array.from(h.childNodes).filter(c => !(c.classList && (c.classList.contains('section-number') || c.classList.contains('headerlink')))).map(c => c.textContent).join('').trim());
  return out;
}
