/* global document */
// Live updates for the operator console: every 10 s, fetch /admin/live and replace each
// section's body. The page is complete without this script (server-rendered); it only
// keeps it fresh. A section holding the keyboard focus, or a form with typed input, is left
// alone until the operator is done with it; open <details> stay open.
(function () {
  'use strict';
  var intervalMs = 10000;
  var updated = document.getElementById('updated');
  if (updated === null) return; // not the console page (sign-in, confirmation)

  function busy(body) {
    var active = document.activeElement;
    if (active && body.contains(active) && active !== document.body) return true;
    var fields = body.querySelectorAll('input:not([type=hidden]), select, textarea');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.tagName === 'SELECT' ? f.selectedIndex > 0 : f.value !== f.defaultValue) return true;
    }
    return false;
  }

  function apply(sections) {
    var bodies = document.querySelectorAll('.section-body[data-section]');
    for (var i = 0; i < bodies.length; i++) {
      var body = bodies[i];
      var next = sections[body.getAttribute('data-section')];
      if (typeof next !== 'string' || busy(body)) continue;
      var open = [];
      var details = body.querySelectorAll('details[open]');
      for (var j = 0; j < details.length; j++) open.push(j);
      // The server escaped every value in this HTML (console/html.ts).
      body.innerHTML = next;
      var after = body.querySelectorAll('details');
      for (var k = 0; k < open.length; k++) if (after[open[k]]) after[open[k]].open = true;
    }
  }

  function tick() {
    if (document.hidden) return;
    fetch('/admin/live', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 401) {
          updated.textContent = 'signed out: reload to sign in';
          updated.className = 'stale';
          return undefined;
        }
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        if (data === undefined) return;
        apply(data.sections);
        updated.textContent = 'updated ' + data.at.slice(11, 19) + ' UTC';
        updated.className = '';
      })
      .catch(function (error) {
        updated.textContent = 'not updating (' + error.message + '); retrying';
        updated.className = 'stale';
      });
  }

  setInterval(tick, intervalMs);
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) tick();
  });
})();
