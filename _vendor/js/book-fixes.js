/* The book's small fixes to the theme's JavaScript (loaded on every page by _ext/book_fixes.py).

   Sidebar toggles. pydata-sphinx-theme 0.17.1 binds its "open the sidebar" handler to the FIRST
   element with class .primary-toggle (.secondary-toggle), and sphinx-book-theme 1.3.0 its
   "collapse on a wide screen" handler to the same one, but the page has two of each: the
   navbar's (hidden) and the article header's (the one a reader sees). So the visible buttons did
   nothing (pydata/pydata-sphinx-theme#2451, executablebooks/sphinx-book-theme#988). Here every
   other toggle forwards its click to the first one, which carries both themes' handlers: on a
   phone it opens the sidebar as a dialog (closed by tapping outside it, by Escape, or by the
   close button added below); on a wide screen the primary toggle collapses and restores the
   chapter list.

   Inline math that is wider than its line. MathJax 3 cannot break an inline formula across
   lines, and the book's CSS never puts inline math in a scroll box (it would be clipped without
   a sign): so on a narrow screen a formula wider than the text column is set in a smaller size
   until it fits (at most down to 70%), and set back when the window grows. */
(function () {
  "use strict";

  function forwardToggles(selector) {
    var all = Array.prototype.slice.call(document.querySelectorAll(selector));
    if (all.length < 2) return;
    var first = all[0];
    all.slice(1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        first.click();
        button.blur();
      });
    });
  }

  function addCloseButton(dialogId, label) {
    var dialog = document.getElementById(dialogId);
    if (!dialog || dialog.querySelector(".book-dialog-close")) return;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "book-dialog-close btn btn-sm";
    close.setAttribute("aria-label", label);
    close.title = label;
    close.innerHTML = "&times;";
    close.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.close();
    });
    // The theme moves the sidebar's children into the dialog when it opens and back when it
    // closes: put the button back at the top each time it opens.
    var observer = new MutationObserver(function () {
      if (dialog.open && dialog.firstChild !== close) dialog.insertBefore(close, dialog.firstChild);
    });
    observer.observe(dialog, { attributes: true, attributeFilter: ["open"] });
  }

  var MIN_SCALE = 0.7;

  function availableWidth(el) {
    var block = el.parentElement;
    while (block && getComputedStyle(block).display.indexOf("inline") === 0) block = block.parentElement;
    if (!block) return Infinity;
    var cs = getComputedStyle(block);
    return block.clientWidth - parseFloat(cs.paddingLeft || 0) - parseFloat(cs.paddingRight || 0);
  }

  function fitInlineMath() {
    var all = document.querySelectorAll('mjx-container.MathJax:not([display="true"])');
    Array.prototype.forEach.call(all, function (el) {
      el.style.fontSize = "";
      var width = el.getBoundingClientRect().width;
      var room = availableWidth(el);
      if (width > room + 0.5 && room > 0) {
        el.style.fontSize = Math.max(MIN_SCALE, (room - 1) / width) * 100 + "%";
      }
    });
  }

  function whenMathIsTypeset(callback) {
    var tries = 0;
    (function wait() {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        MathJax.startup.promise.then(callback);
      } else if (tries++ < 100) {
        setTimeout(wait, 100);
      }
    })();
  }

  function setup() {
    whenMathIsTypeset(fitInlineMath);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(fitInlineMath, 200);
    });
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    addCloseButton("pst-primary-sidebar-modal", "Close the chapter list");
    addCloseButton("pst-secondary-sidebar-modal", "Close the page contents");
  }

  if (document.readyState !== "loading") setup();
  else document.addEventListener("DOMContentLoaded", setup);
})();
