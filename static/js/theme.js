/* Runs in <head>, before the first paint (a file, not inline: the Content-Security-Policy forbids
   inline scripts). It marks that JavaScript runs (html.js shows what needs it, such as copy buttons),
   and applies the theme the operator chose with the header toggle, if any; otherwise the stylesheet
   follows the system's light or dark preference. console.js has the toggle itself. */
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = localStorage.getItem("theme");
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
  } catch (e) {
    // Storage refused (private mode, blocked cookies): the system preference applies.
  }
})();
