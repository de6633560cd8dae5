// Live comments and the copy button. The page works without this script:
// it only adds what a visitor posts (over SSH) while the page is open (a
// reply under the comment it answers), shows edits, and removes what is
// hidden or deleted (or leaves a placeholder for the replies under it). Everything it inserts is HTML
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
    var n = list.querySelectorAll("article.comment:not(.placeholder)").length;
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
  // parse makes the element of HTML the server rendered and escaped.
  function parse(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    return holder.firstElementChild;
  }
  function connect() {
    var es = new EventSource(list.dataset.events + "?since=" + encodeURIComponent(last));
    on(es, "comment", function (d) {
      if (document.getElementById("c" + d.id)) { return; }
      var el = parse(d.html);
      var parent = d.parent && document.getElementById("c" + d.parent);
      if (!parent) {
        list.insertBefore(el, list.querySelector(".end"));
        return;
      }
      var replies = parent.querySelector(":scope > .replies");
      if (!replies) {
        replies = document.createElement("div");
        replies.className = "replies";
        parent.appendChild(replies);
      }
      replies.appendChild(el);
    });
    // An edited comment, or one now a placeholder: it keeps its replies,
    // and replies to it say its new name.
    on(es, "edit", function (d) {
      var old = document.getElementById("c" + d.id);
      if (!old) { return; }
      var el = parse(d.html);
      var replies = old.querySelector(":scope > .replies");
      if (replies) { el.appendChild(replies); }
      old.replaceWith(el);
      if (d.name) {
        list.querySelectorAll('.to-name[data-to="' + d.id + '"]').forEach(function (n) { n.textContent = d.name; });
      }
    });
    on(es, "remove", function (d) {
      var el = document.getElementById("c" + d.id);
      if (el) { el.remove(); }
      // A placeholder whose last reply went goes too.
      var keep = d.keep || [];
      list.querySelectorAll("article.placeholder").forEach(function (p) {
        if (keep.indexOf(Number(p.id.slice(1))) < 0) { p.remove(); }
      });
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
