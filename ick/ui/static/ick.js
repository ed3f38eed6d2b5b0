// ick's build page, live: follows the log over server-sent events (resuming where it left
// off), updates the state and the actions in place, and lets go of the connection when the
// build ends or the tab is hidden, so that many open tabs do not use up the browser's.
// When the daemon refuses a stream (too many open: a 429), the page polls the log instead.
"use strict";
(function () {
  const MAX = 256 * 1024; // never more of a log on a page than this many characters
  const POLL_EVERY = 3000; // milliseconds between two polls of the log, without a stream
  const ESC = /\x1b\[([0-9;?]*)([@-~])|\x1b[@-Z\\-_]?/g;
  // An action's header at a line's start gets an anchor, as ick/ui/ansi.py's log_html gives.
  const HEADER = /(^|\n)(?===== \[(\d+)\/\d+\] )/g;
  let log = null, source = null, lastId = null, carry = "", fg = null, bold = false, total = 0;
  // Polling: whether the page polls (its stream was refused), the next poll, one in flight.
  let polling = false, timer = null, busy = false, decoder = null, polledState = null;
  let lineStart = true;

  function stop() {
    if (source) { source.close(); source = null; }
    if (timer) { clearTimeout(timer); timer = null; }
  }

  function ended() {
    stop();
    polling = false;
    log.removeAttribute("data-events");
    refresh();
  }

  function refresh() {
    if (window.htmx) {
      window.htmx.ajax("GET", location.pathname,
                       {target: "#summary", select: "#summary", swap: "outerHTML"});
    }
  }

  // The same log as the stream's, from where the page is: /ui/builds/N/log.txt?offset=M.
  function poll() {
    timer = null;
    if (!polling || busy || !log || !log.dataset.events || document.hidden) return;
    busy = true;
    let url = log.dataset.events.replace("/events?", "/log.txt?");
    if (lastId !== null) url = url.replace(/offset=\d+/, "offset=" + lastId);
    fetch(url, {credentials: "same-origin", redirect: "manual"}).then(function (r) {
      if (r.status !== 200) { busy = false; return; } // logged out, or gone: stay as it is
      return r.arrayBuffer().then(function (body) {
        busy = false;
        const start = parseInt(r.headers.get("X-Ick-Offset"), 10);
        if (lastId !== null && start !== parseInt(lastId, 10)) { // some was left out
          log.textContent = "";
          total = 0;
          decoder = null;
        }
        if (!decoder) decoder = new TextDecoder();
        lastId = String(start + body.byteLength);
        append(decoder.decode(body, {stream: true}));
        const state = r.headers.get("X-Ick-State");
        if (r.headers.get("X-Ick-End") === "1") { ended(); return; }
        if (polledState !== null && state !== polledState) refresh();
        polledState = state;
        if (!timer) timer = setTimeout(poll, POLL_EVERY);
      });
    }).catch(function () { busy = false; });
  }

  function start() {
    if (source || timer || !log || !log.dataset.events || document.hidden) return;
    if (polling) { poll(); return; }
    let url = log.dataset.events;
    if (lastId !== null) url = url.replace(/offset=\d+/, "offset=" + lastId);
    source = new EventSource(url);
    source.onerror = function () {
      // Refused (a 429: too many streams open), not merely cut: poll instead.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        polling = true;
        poll();
      }
    };
    source.addEventListener("log", function (e) {
      lastId = e.lastEventId;
      append(JSON.parse(e.data));
    });
    source.addEventListener("skip", function () {
      log.textContent = "";
      total = 0;
      lineStart = true;
    });
    source.addEventListener("state", function (e) { update(JSON.parse(e.data)); });
    source.addEventListener("end", ended);
  }

  function sgr(codes) {
    for (const text of (codes || "0").split(";")) {
      const code = parseInt(text || "0", 10);
      if (code === 0) { fg = null; bold = false; }
      else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) fg = String(code);
      else if (code === 39) fg = null;
    }
  }

  function piece(into, text) {
    if (!text) return;
    let pos = 0, m;
    HEADER.lastIndex = 0;
    while ((m = HEADER.exec(text)) !== null) {
      const at = m.index + m[1].length;
      if (at === 0 && !lineStart) { HEADER.lastIndex = 1; continue; }
      coloured(into, text.slice(pos, at));
      const anchor = document.createElement("a");
      anchor.id = "log-" + m[2];
      into.appendChild(anchor);
      pos = at;
      if (HEADER.lastIndex === m.index) HEADER.lastIndex++; // a match of no characters
    }
    coloured(into, text.slice(pos));
    lineStart = text.endsWith("\n");
  }

  function coloured(into, text) {
    if (!text) return;
    total += text.length;
    if (fg === null && !bold) { into.appendChild(document.createTextNode(text)); return; }
    const span = document.createElement("span");
    span.className = [fg === null ? "" : "c" + fg, bold ? "b" : ""].join(" ").trim();
    span.textContent = text;
    into.appendChild(span);
  }

  function append(text) {
    text = carry + text;
    carry = "";
    const cut = text.match(/\x1b(\[[0-9;?]*)?$/); // an escape sequence split across events
    if (cut) { carry = cut[0]; text = text.slice(0, cut.index); }
    const stick = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    const into = document.createDocumentFragment();
    let pos = 0, m;
    ESC.lastIndex = 0;
    while ((m = ESC.exec(text)) !== null) {
      piece(into, text.slice(pos, m.index));
      pos = ESC.lastIndex;
      if (m[2] === "m") sgr(m[1]);
    }
    piece(into, text.slice(pos));
    log.appendChild(into);
    while (total > MAX && log.firstChild) {
      total -= log.firstChild.textContent.length;
      log.removeChild(log.firstChild);
    }
    if (stick) window.scrollTo(0, document.body.scrollHeight);
  }

  function seconds(s) {
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 60) return Math.floor(s) + " s";
    return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
  }

  function setState(el, state) {
    if (!el) return;
    el.textContent = state;
    el.className = "state s-" + state;
  }

  function update(doc) {
    setState(document.getElementById("state"), doc.state);
    doc.actions.forEach(function (a, i) {
      const row = document.getElementById("action-" + i);
      if (!row) return;
      setState(row.querySelector(".a-state .state"), a.state);
      row.querySelector(".a-took").textContent = a.duration === null ? "" : seconds(a.duration);
      row.querySelector(".a-message").textContent = a.message;
    });
  }

  function init() {
    const found = document.getElementById("log");
    if (found === log) return;
    stop();
    log = found;
    lastId = null; carry = ""; fg = null; bold = false; lineStart = true;
    polling = false; decoder = null; polledState = null;
    total = log ? log.textContent.length : 0;
    // A live log is what one opens its page for: start at its end (below the summary), and
    // from there follow it; a link to a place in it (#log-N) goes there instead.
    if (log && log.dataset.events && !location.hash) {
      window.scrollTo(0, document.body.scrollHeight);
    }
    start();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stop(); else start();
  });
  // The dashboard refreshes itself, but not for a tab nobody looks at.
  document.addEventListener("htmx:beforeRequest", function (e) {
    if (document.hidden && e.target.id === "dashboard") e.preventDefault();
  });
})();
