// The dashboard's live panel: fetch it again on each live event or alarm, and every few
// seconds (an unlocked door locks again without an event). No page reload.
(function () {
  "use strict";
  const panel = document.getElementById("panel");
  const live = document.getElementById("live");
  const words = document.getElementById("dash-words").content.firstElementChild.dataset;
  const everyMs = Number(live.dataset.refreshS || "3") * 1000;
  let busy = false;

  async function refresh() {
    // Never while someone types an acknowledgement note in the panel.
    if (busy || panel.contains(document.activeElement)) return;
    busy = true;
    try {
      const answer = await fetch("/console/panel", { credentials: "same-origin" });
      const html = answer.ok ? await answer.text() : null;
      // Someone may have started an acknowledgement while the panel was on its way.
      if (html !== null && !panel.contains(document.activeElement)) panel.innerHTML = html;
    } catch (err) {
      live.textContent = words.offline;
    } finally {
      busy = false;
    }
  }

  const stream = new EventSource("/api/v1/events/stream");
  stream.onopen = function () { live.textContent = words.live; };
  stream.onerror = function () { live.textContent = words.offline; };
  stream.addEventListener("access", refresh);
  stream.addEventListener("alarm", refresh);
  setInterval(refresh, everyMs);
})();
