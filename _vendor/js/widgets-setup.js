// Loaded before the widget manager on pages with widgets (see _config.yml, nb_ipywidgets_js).
(function () {
  // 1. Tell require.js where the widget manager lives, so that the fonts it loads
  //    resolve to this site's _static folder from any page depth.
  if (window.require && window.require.config) {
    var root = document.documentElement.dataset.content_root || "./";
    var base = new URL(root + "_static/", document.baseURI).href.replace(/\/$/, "");
    window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": base } });
  }
  // 2. The widget manager typesets labels with MathJax 2's MathJax.Hub.Queue; the site
  //    runs MathJax 3. Give whatever object window.MathJax holds a Hub.Queue that
  //    forwards to MathJax 3's typesetPromise.
  function typesetLater(args) {
    var mj = window.MathJax;
    for (var i = 0; i < args.length; i++) {
      var a = args[i];
      if (Array.isArray(a) && a[0] === "Typeset" && a[2] && mj && mj.typesetPromise) {
        mj.typesetPromise([a[2]]).catch(function () {});
      }
    }
  }
  function shim(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      try { mj.Hub = { Queue: function () { typesetLater(arguments); } }; } catch (e) {}
    }
    return mj;
  }
  var current = shim(window.MathJax || {});
  try {
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      get: function () { return current; },
      set: function (v) { current = shim(v); },
    });
  } catch (e) {}
})();
