// Live comments and the copy button. The page works without this script:
// it only adds what a visitor posts (over SSH) while the page is open, and
// removes what a moderator hides or deletes. Everything it inserts is HTML
// the server escaped; nothing from a visitor is built into markup here.
(function () {
  "use strict";
  var copy = document.querySelector("button.copy");
  if (copy && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = document.getElementById(copy.dataset.copy).textContent;
      navigator.clipboard.writeText(text).then(function () { copy.textContent = "Copied"; }, function () {});
    });
  }
  // Comment times read as in the terminal ("3 minutes ago"); the page
  // itself carries the absolute time, which stays as the tooltip.
  function plural(n, one, many) { return n === 1 ? "1 " + one : n + " " + many; }
  function ago(t) {
    var s = (Date.now() - t.getTime()) / 1000;
    if (s < 60) { return "just now"; }
    if (s < 3600) { return plural(Math.floor(s / 60), "minute", "minutes") + " ago"; }
    if (s < 86400) { return plural(Math.floor(s / 3600), "hour", "hours") + " ago"; }
    if (s < 2 * 86400) { return "yesterday"; }
    if (s < 30 * 86400) { return plural(Math.floor(s / 86400), "day", "days") + " ago"; }
    return null;
  }
  function relative(root) {
    root.querySelectorAll("article.comment time[datetime]").forEach(function (el) {
      var when = ago(new Date(el.getAttribute("datetime")));
      if (when && !el.title) { el.title = el.textContent; el.textContent = when; }
    });
  }
  var list = document.getElementById("comments");
  if (list) { relative(list); }
  if (!list || !window.EventSource) { return; }
  var count = document.getElementById("comment-count");
  function recount() {
    var n = list.querySelectorAll("article.comment").length;
    if (count) { count.textContent = String(n); }
    var empty = list.querySelector(".empty");
    var end = list.querySelector(".end");
    if (empty) { empty.hidden = n > 0; }
    if (end) { end.hidden = n === 0; }
  }
  // The page was rendered at stream position data-since: following from
  // there, nothing posted since is missed. A reconnect by the browser
  // sends Last-Event-ID itself; one of ours passes the last id we saw.
  var last = list.dataset.since || "";
  function on(es, name, fn) {
    es.addEventListener(name, function (e) {
      if (e.lastEventId) { last = e.lastEventId; }
      fn(JSON.parse(e.data));
      relative(list);
      recount();
    });
  }
  function connect() {
    var es = new EventSource(list.dataset.events + "?since=" + encodeURIComponent(last));
    on(es, "comment", function (d) {
      if (document.getElementById("c" + d.id)) { return; }
      var end = list.querySelector(".end");
      var holder = document.createElement("div");
      holder.innerHTML = d.html;
      list.insertBefore(holder.firstElementChild, end || null);
    });
    on(es, "remove", function (d) {
      var el = document.getElementById("c" + d.id);
      if (el) { el.remove(); }
    });
    on(es, "thread", function (d) { list.innerHTML = d.html; });
    es.onerror = function () {
      // The browser retries by itself unless the server refused (a full
      // server answers 503): then try again, once, a while later.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(connect, 30000);
      }
    };
  }
  connect();
})();
