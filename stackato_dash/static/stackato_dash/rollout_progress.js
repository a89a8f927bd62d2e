// Keeps the rollout page live: while the rollout runs, fetch the progress
// fragment every 2 s and swap it in, keeping open logs open. Stops once the
// fragment says the rollout has finished.
(function () {
  "use strict";
  const PERIOD_MS = 2000;

  function finished(root) {
    const live = root.querySelector(".rollout-live");
    return !live || live.dataset.finished === "yes";
  }

  function openLogs(root) {
    return Array.from(root.querySelectorAll("#rollout-nodes details"), (d) => d.open);
  }

  async function poll(root) {
    try {
      const response = await fetch(root.dataset.url, {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (response.ok) {
        const open = openLogs(root);
        root.innerHTML = await response.text();
        root.querySelectorAll("#rollout-nodes details").forEach((d, i) => { d.open = Boolean(open[i]); });
      }
    } catch (error) { /* a missed poll is retried */ }
    if (!finished(root)) { setTimeout(() => poll(root), PERIOD_MS); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("rollout-progress");
    if (root && !finished(root)) { setTimeout(() => poll(root), PERIOD_MS); }
  });
})();
