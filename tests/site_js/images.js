() => Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 0).map(img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const w = c.width - 1, h = c.height - 1;
  const alphas = [[0, 0], [w, 0], [0, h], [w, h]].map(([x, y]) => g.getImageData(x, y, 1, 1).data[3]);
  return {src: img.src.slice(0, 80), opaque: alphas.every(a => a === 255), background: getComputedStyle(img).backgroundColor};
})
