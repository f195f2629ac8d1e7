// Transcript cues move the player; ?t=SECONDS starts it at a search hit; images zoom;
// a page's machine-read text copies with one click (selecting it works as well).
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    var player = document.getElementById("player");
    if (player) {
      var cues = Array.prototype.slice.call(document.querySelectorAll(".cue"));
      var seek = function (t, play) {
        var go = function () { player.currentTime = t; if (play) { var p = player.play(); if (p && p.catch) p.catch(function () {}); } };
        if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
      };
      cues.forEach(function (cue) {
        cue.addEventListener("click", function () { seek(parseFloat(cue.dataset.time), true); });
      });
      player.addEventListener("timeupdate", function () {
        var now = player.currentTime, current = null;
        cues.forEach(function (cue) { if (parseFloat(cue.dataset.time) <= now + 0.05) current = cue; });
        cues.forEach(function (cue) { cue.classList.toggle("active", cue === current); });
      });
      var start = parseFloat(player.dataset.start);
      if (!isNaN(start)) {
        seek(start, false);
        var target = cues.filter(function (c) { return Math.abs(parseFloat(c.dataset.time) - start) < 0.01; })[0];
        if (target) { target.classList.add("active"); target.scrollIntoView({ block: "nearest" }); }
      }
    }
    var zoom = document.getElementById("zoom");
    if (zoom) {
      document.querySelectorAll(".zoomable img").forEach(function (img) {
        img.addEventListener("click", function () {
          zoom.querySelector("img").src = img.dataset.full; zoom.hidden = false;
        });
      });
      zoom.addEventListener("click", function () { zoom.hidden = true; });
      document.addEventListener("keydown", function (e) { if (e.key === "Escape") zoom.hidden = true; });
    }
    document.querySelectorAll(".copy-text").forEach(function (button) {
      button.addEventListener("click", function () {
        var lines = document.getElementById(button.dataset.copy);
        var text = Array.prototype.map.call(lines.querySelectorAll("li"), function (li) { return li.textContent; }).join("\n");
        var done = function () { button.classList.add("copied"); };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () {});
      });
    });
    var matched = document.querySelector(".ocr-lines li.matched");
    if (matched) matched.scrollIntoView({ block: "nearest" });
  });
})();
