/* The book's small fixes to the theme's JavaScript (loaded on every page by _ext/book_fixes.py).

   Sidebar toggles. pydata-sphinx-theme 0.17.1 binds its "open the sidebar" handler to the FIRST
   element with class .primary-toggle (.secondary-toggle), and sphinx-book-theme 1.3.0 its
   "collapse on a wide screen" handler to the same one, but the page has two of each: the
   navbar's (hidden) and the article header's (the one a reader sees). So the visible buttons did
   nothing (pydata/pydata-sphinx-theme#2451, executablebooks/sphinx-book-theme#988). Here every
   other toggle forwards its click to the first one, which carries both themes' handlers: on a
   phone it opens the sidebar as a dialog (closed by tapping outside it, by Escape, or by the
   close button added below); on a wide screen the primary toggle collapses and restores the
   chapter list. */
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

  function setup() {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    addCloseButton("pst-primary-sidebar-modal", "Close the chapter list");
    addCloseButton("pst-secondary-sidebar-modal", "Close the page contents");
  }

  if (document.readyState !== "loading") setup();
  else document.addEventListener("DOMContentLoaded", setup);
})();
