/* What JavaScript adds to pages that work without it: the theme toggle, keyboard shortcuts and copy
   buttons. Loaded with `defer`; every listener is on the document, so content that htmx swaps in
   works as well. No inline script or style anywhere: the Content-Security-Policy forbids both. */
(function () {
  "use strict";
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  // --- Light and dark ------------------------------------------------------------------------------
  // theme.js applied a remembered choice before the first paint; without one the system's applies.

  function isDark() {
    var chosen = root.getAttribute("data-theme");
    return chosen ? chosen === "dark" : systemDark.matches;
  }

  function showTheme() {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(isDark()));
    });
  }

  function toggleTheme() {
    var next = isDark() ? "light" : "dark";
    // Choosing the system's own theme means "follow the system" again; only a difference is kept.
    var followsSystem = (next === "dark") === systemDark.matches;
    if (followsSystem) root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", next);
    try {
      if (followsSystem) localStorage.removeItem("theme");
      else localStorage.setItem("theme", next);
    } catch (e) {
      // Storage refused: the choice lasts for this page only.
    }
    showTheme();
  }

  systemDark.addEventListener("change", showTheme);

  // --- Keyboard shortcuts --------------------------------------------------------------------------
  // Pages mark their targets with data-shortcut="n" (a link or button: clicked) or "/" (a field:
  // focused). "?" lists the page's shortcuts in a dialog, which Escape closes. Keys typed in a field
  // are text, never shortcuts.

  function isField(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function isVisible(el) {
    return el.getClientRects().length > 0;
  }

  function shortcutTarget(key) {
    var marked = document.querySelectorAll("[data-shortcut]");
    for (var i = 0; i < marked.length; i++) {
      if (marked[i].getAttribute("data-shortcut") === key && isVisible(marked[i])) return marked[i];
    }
    // A page without a marked search field: its first search field.
    if (key === "/") {
      var search = document.querySelector('main input[type="search"]');
      if (search && isVisible(search)) return search;
    }
    return null;
  }

  function describe(el) {
    var text = el.getAttribute("aria-label") || (el.labels && el.labels.length ? el.labels[0].textContent : el.textContent);
    return (text || "").replace(/\s+/g, " ").trim();
  }

  function markShortcuts() {
    document.querySelectorAll("[data-shortcut]").forEach(function (el) {
      el.setAttribute("aria-keyshortcuts", el.getAttribute("data-shortcut"));
    });
  }

  function addShortcut(list, key, what) {
    var term = document.createElement("dt");
    var kbd = document.createElement("kbd");
    kbd.textContent = key;
    term.appendChild(kbd);
    var description = document.createElement("dd");
    description.textContent = what;
    list.append(term, description);
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || dialog.open) return;
    var list = dialog.querySelector("dl");
    list.replaceChildren();
    ["/", "n", "e"].forEach(function (key) {
      var el = shortcutTarget(key);
      if (el) addShortcut(list, key, (isField(el) ? "Go to " : "") + describe(el));
    });
    addShortcut(list, "?", "Show this list");
    addShortcut(list, "Esc", "Close this list");
    dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (isField(event.target) || document.querySelector("dialog[open]")) return;
    if (event.key === "?") {
      event.preventDefault();
      openShortcuts();
      return;
    }
    var target = shortcutTarget(event.key);
    if (!target) return;
    event.preventDefault();
    if (isField(target)) {
      target.focus();
      if (target.select) target.select();
    } else {
      target.click();
    }
  });

  // --- Copy buttons: <button type="button" class="copy" data-copy="VALUE" aria-label="Copy id"> ----

  var announcer = null;

  function announce(message) {
    announcer = announcer || document.getElementById("announcer");
    if (!announcer) return;
    // Emptied first, so that the same message twice is read out twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function copied(button, ok) {
    announce(ok ? "Copied" : "Could not copy: select the text and copy it instead");
    if (!ok) return;
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.textContent);
    button.textContent = "Copied";
    window.clearTimeout(button.copyTimer);
    button.copyTimer = window.setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
    }, 1500);
  }

  // --- One listener for the clicks ------------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-theme-toggle], [data-open-shortcuts], [data-close-dialog], button.copy[data-copy]");
    if (el && el.matches("[data-theme-toggle]")) {
      toggleTheme();
    } else if (el && el.matches("[data-open-shortcuts]")) {
      openShortcuts();
    } else if (el && el.matches("[data-close-dialog]")) {
      el.closest("dialog").close();
    } else if (el) {
      var ok = function () { copied(el, true); };
      var failed = function () { copied(el, false); };
      if (navigator.clipboard) navigator.clipboard.writeText(el.getAttribute("data-copy")).then(ok, failed);
      else failed();
    } else if (event.target.matches("dialog[open]")) {
      // The dialog itself is the target of clicks on its padding and on the backdrop: close on the latter.
      var box = event.target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) event.target.close();
    }
  });

  // --- Times in the reader's own zone ---------------------------------------------------------------
  // The server writes <time datetime="2026-12-01T19:59:27+00:00">2026-12-01 19:59:27 UTC</time>;
  // here it reads in the browser's zone, to the second, with the zone named and UTC kept as a tooltip.

  function pad(n) { return String(n).padStart(2, "0"); }

  function localTimes(scope) {
    scope.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment)) return;
      var zone = "";
      try {
        zone = new Intl.DateTimeFormat("en", { timeZoneName: "short" }).formatToParts(moment)
          .filter(function (part) { return part.type === "timeZoneName"; })[0].value;
      } catch (e) { zone = ""; }
      el.setAttribute("title", el.textContent.trim());
      el.textContent = moment.getFullYear() + "-" + pad(moment.getMonth() + 1) + "-" + pad(moment.getDate()) + " " +
        pad(moment.getHours()) + ":" + pad(moment.getMinutes()) + ":" + pad(moment.getSeconds()) + (zone ? " " + zone : "");
      el.setAttribute("data-local", "");
    });
  }

  showTheme();
  markShortcuts();
  localTimes(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    markShortcuts();
    localTimes(event.target);
  });
})();
