/*
 * Cosmic Horizons live operations page.
 *
 * Every string here comes from producers (job and user ids, pipeline names, error messages, alert texts). It is only
 * ever put on the page with textContent or as an attribute value, never parsed as HTML (no innerHTML anywhere), and
 * the server's Content-Security-Policy forbids inline scripts as a second line of defence.
 *
 * Data: one EventSource on api/events. Its first event is a full snapshot, then come changes: counts, series,
 * failures, alerts, notifications (new ones only) and health. The browser reconnects by itself after a network error
 * or a server restart, and every reconnect starts with a fresh snapshot, so the page resumes without a reload.
 */
(function () {
  'use strict';

  var token = new URLSearchParams(window.location.search).get('token');
  var NOTIFICATIONS_KEPT = 1000;
  var NOTIFICATIONS_SHOWN = 200;
  var RESOLVED_SHOWN = 10;
  var PALETTE = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#e8590c', '#0b7285', '#5c940d', '#c2255c'];
  var SEVERITIES = ['critical', 'warning', 'info'];
  var KINDS = ['completed', 'failed', 'cancelled'];

  var state = {
    counts: null,
    series: null,
    failures: [],
    alerts: { open: [], resolved: [] },
    notifications: new Map(),
    health: null,
    clockOffset: 0,
    arrivals: 0,
    snapshots: 0
  };

  // Diagnostics: Content-Security-Policy violations are counted on <body data-csp-violations>.
  var cspViolations = 0;
  document.addEventListener('securitypolicyviolation', function () {
    cspViolations += 1;
    document.body.setAttribute('data-csp-violations', String(cspViolations));
  });

  // ------------------------------------------------------------------------------------------------ helpers

  function $(selector) {
    return document.querySelector(selector);
  }

  /** An element whose text and attributes are set as text: el('td', {text: v, 'data-x': y}, [children]). */
  function el(tag, props, children) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null) {
          return;
        }
        if (k === 'text') {
          e.textContent = String(v);
        } else if (k === 'className') {
          e.className = v;
        } else {
          e.setAttribute(k, String(v));
        }
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) {
        e.append(c);
      }
    });
    return e;
  }

  function setText(node, value) {
    node.textContent = value === null || value === undefined ? '' : String(value);
  }

  /** A class name from a producer-supplied word, only if it is one we know. */
  function known(word, allowed) {
    var w = String(word || '').toLowerCase();
    return allowed.indexOf(w) >= 0 ? w : 'other';
  }

  function now() {
    return Date.now() + state.clockOffset;
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  function fmtTime(ms) {
    if (ms === null || ms === undefined) {
      return '–';
    }
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + 'Z';
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) {
      return '–';
    }
    var s = Math.floor(Math.max(0, ms) / 1000);
    if (s < 60) {
      return s + 's';
    }
    var m = Math.floor(s / 60);
    if (m < 60) {
      return m + 'm ' + (s % 60) + 's';
    }
    var h = Math.floor(m / 60);
    if (h < 48) {
      return h + 'h ' + (m % 60) + 'm';
    }
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function fmtBytes(b) {
    if (b === null || b === undefined) {
      return '–';
    }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (b >= 1024 && i < units.length - 1) {
      b /= 1024;
      i += 1;
    }
    return (i === 0 ? b : b.toFixed(1)) + ' ' + units[i];
  }

  function systemLabel(system) {
    return system === null || system === undefined ? '(no system yet)' : system;
  }

  /** An element showing the time since `since`, kept current by the clock tick. */
  function age(tag, since) {
    return el(tag, { className: 'age', 'data-since': since, text: fmtDuration(now() - since), title: fmtTime(since) });
  }

  // Renders are coalesced: a burst of events redraws each part once.
  var dirty = {};
  var renderScheduled = false;
  var renderers = {};

  function invalidate(part) {
    dirty[part] = true;
    if (!renderScheduled) {
      renderScheduled = true;
      setTimeout(function () {
        renderScheduled = false;
        var parts = Object.keys(dirty);
        dirty = {};
        parts.forEach(function (p) {
          renderers[p]();
        });
      }, 30);
    }
  }

  // ------------------------------------------------------------------------------------------------ jobs by system

  var COUNT_FIELDS = ['submitted', 'queued', 'running', 'completed', 'failed', 'cancelled'];

  function countsRow(label, counts, system, isTotal) {
    var tr = el('tr', isTotal ? { 'data-total': 'true' } : { 'data-system': system === null ? '' : system });
    tr.append(el('th', { scope: 'row', text: label }));
    COUNT_FIELDS.forEach(function (f) {
      tr.append(el('td', { className: 'num ' + f + (counts[f] > 0 ? '' : ' zero'), 'data-field': f, text: counts[f] }));
    });
    return tr;
  }

  renderers.counts = function () {
    var c = state.counts;
    var tbody = $('#jobs-by-system tbody');
    var tfoot = $('#jobs-by-system tfoot');
    if (!c || c.asOf === null || c.asOf === undefined) {
      setText($('#window-note'), 'job_status is empty: no jobs yet.');
      setText($('#as-of'), '');
      tbody.replaceChildren();
      tfoot.replaceChildren();
      return;
    }
    setText($('#window-note'), 'Now: submitted, queued, running. Ended in the hour up to ' + fmtTime(c.asOf) +
      ', the newest event time in job_status.');
    setText($('#as-of'), 'as of ' + fmtTime(c.asOf));
    var total = {};
    COUNT_FIELDS.forEach(function (f) {
      total[f] = 0;
    });
    tbody.replaceChildren.apply(tbody, c.systems.map(function (s) {
      COUNT_FIELDS.forEach(function (f) {
        total[f] += s[f];
      });
      return countsRow(systemLabel(s.hpcSystem), s, s.hpcSystem, false);
    }));
    tfoot.replaceChildren(countsRow('All systems', total, null, true));
  };

  // ------------------------------------------------------------------------------------------------ charts

  var plots = { depth: null, wait: null, key: null };

  /** Axis labels in UTC, 24-hour, with the date under the first one (the rest of the page shows UTC too). */
  function timeLabels(u, splits) {
    return splits.map(function (v, i) {
      var t = fmtTime(v * 1000);
      return i === 0 ? t.slice(11, 16) + '\n' + t.slice(0, 10) : t.slice(11, 16);
    });
  }

  function makePlot(target, systems, data, unit) {
    var width = Math.max(280, target.clientWidth || 480);
    var opts = {
      width: width,
      height: 190,
      tzDate: function (ts) {
        return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
      },
      scales: { x: { time: true } },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: 'time (UTC)' }].concat(systems.map(function (name, i) {
        return {
          label: systemLabel(name),
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: true,
          points: { show: true, size: 4 },
          value: function (u, v) {
            return v === null || v === undefined ? '–' : v + unit;
          }
        };
      })),
      axes: [{ values: timeLabels }, { size: 56 }]
    };
    return new uPlot(opts, data, target);
  }

  renderers.series = function () {
    var s = state.series;
    var empty = !s || !s.times || s.times.length === 0;
    $('#charts-empty').hidden = !empty;
    if (empty) {
      ['depth', 'wait'].forEach(function (k) {
        if (plots[k]) {
          plots[k].destroy();
          plots[k] = null;
        }
      });
      plots.key = null;
      return;
    }
    var depthData = [s.times].concat(s.depth);
    var waitData = [s.times].concat(s.waitP95Seconds);
    var key = JSON.stringify(s.systems);
    if (typeof uPlot === 'undefined') {
      return;
    }
    if (plots.key !== key || !plots.depth) {
      if (plots.depth) {
        plots.depth.destroy();
        plots.wait.destroy();
      }
      plots.depth = makePlot($('#chart-depth'), s.systems, depthData, ' jobs');
      plots.wait = makePlot($('#chart-wait'), s.systems, waitData, ' s');
      plots.key = key;
    } else {
      plots.depth.setData(depthData);
      plots.wait.setData(waitData);
    }
  };

  window.addEventListener('resize', function () {
    ['depth', 'wait'].forEach(function (k) {
      var p = plots[k];
      if (p) {
        p.setSize({ width: Math.max(280, p.root.parentNode.clientWidth), height: 190 });
      }
    });
  });

  // ------------------------------------------------------------------------------------------------ alerts

  function severityCell(severity) {
    return el('td', null, [el('span', { className: 'badge sev-' + known(severity, SEVERITIES), text: severity })]);
  }

  function subjectCell(a) {
    return el('td', { className: 'subject' }, [
      el('span', { text: a.subject }),
      a.hpcSystem && a.hpcSystem !== a.subject ? el('span', { className: 'muted', text: ' · ' + a.hpcSystem }) : null
    ]);
  }

  renderers.alerts = function () {
    var open = state.alerts.open || [];
    var resolved = state.alerts.resolved || [];
    $('#open-alerts tbody').replaceChildren.apply($('#open-alerts tbody'), open.map(function (a) {
      return el('tr', { 'data-alert-id': a.alertId, 'data-severity': a.severity }, [
        severityCell(a.severity),
        age('td', a.openedAt),
        el('td', { text: a.alertType }),
        subjectCell(a),
        el('td', { className: 'message', text: a.message })
      ]);
    }));
    $('#no-open-alerts').hidden = open.length > 0;
    setText($('#open-alert-count'), open.length);
    $('#open-alert-count').setAttribute('data-severity', open.length === 0 ? 'none'
      : known(open[0].severity, SEVERITIES));
    var resolvedBody = $('#resolved-alerts tbody');
    resolvedBody.replaceChildren.apply(resolvedBody, resolved.slice(0, RESOLVED_SHOWN).map(function (a) {
      var end = a.resolvedAt !== null && a.resolvedAt !== undefined ? a.resolvedAt : a.updatedAt;
      return el('tr', { 'data-alert-id': a.alertId, 'data-severity': a.severity }, [
        severityCell(a.severity),
        el('td', { text: fmtTime(end) }),
        el('td', { text: fmtDuration(end - a.openedAt) }),
        el('td', { text: a.alertType }),
        subjectCell(a),
        el('td', { className: 'message', text: a.message })
      ]);
    }));
  };

  // ------------------------------------------------------------------------------------------------ notifications

  function addNotifications(list) {
    list.forEach(function (n) {
      if (!state.notifications.has(n.notificationId)) {
        state.arrivals += 1;
        n.arrival = state.arrivals;
        state.notifications.set(n.notificationId, n);
      }
    });
    if (state.notifications.size > NOTIFICATIONS_KEPT) {
      var oldestFirst = Array.from(state.notifications.values()).sort(function (a, b) {
        return a.occurredAt - b.occurredAt || a.arrival - b.arrival;
      });
      oldestFirst.slice(0, state.notifications.size - NOTIFICATIONS_KEPT).forEach(function (n) {
        state.notifications.delete(n.notificationId);
      });
    }
    invalidate('notifications');
  }

  function notificationItem(n) {
    var detail = [];
    if (n.pipeline) {
      detail.push(el('span', { className: 'pipeline', text: n.pipeline }));
    }
    if (n.errorCode) {
      detail.push(el('span', { className: 'error-code', text: n.errorCode }));
    }
    if (n.cancelledBy) {
      detail.push(el('span', { className: 'muted', text: 'by ' + n.cancelledBy }));
    }
    return el('li', { 'data-notification-id': n.notificationId, 'data-user': n.userId, 'data-kind': n.kind,
      className: 'kind-' + known(n.kind, KINDS) }, [
      el('div', { className: 'line' }, [
        el('span', { className: 'badge', text: n.kind }),
        el('span', { className: 'user', text: n.userId }),
        el('span', { className: 'job muted', text: n.jobId }),
        el('time', { className: 'muted', text: fmtTime(n.occurredAt) })
      ]),
      el('div', { className: 'title', text: n.title }),
      el('div', { className: 'message', text: n.message }),
      detail.length ? el('div', { className: 'detail' }, detail) : null
    ]);
  }

  function userFilter() {
    return $('#user-filter').value.trim().toLowerCase();
  }

  renderers.notifications = function () {
    var f = userFilter();
    var matching = Array.from(state.notifications.values()).filter(function (n) {
      return !f || String(n.userId).toLowerCase().indexOf(f) >= 0;
    }).sort(function (a, b) {
      return b.occurredAt - a.occurredAt || b.arrival - a.arrival;
    });
    var list = $('#notifications');
    list.replaceChildren.apply(list, matching.slice(0, NOTIFICATIONS_SHOWN).map(notificationItem));
    setText($('#notification-count'), matching.length);
  };

  var filterTimer = null;
  $('#user-filter').addEventListener('input', function () {
    invalidate('notifications');
    clearTimeout(filterTimer);
    filterTimer = setTimeout(loadHistory, 300);
  });

  /** A user's older notifications from the notifications table, merged into the list. */
  function loadHistory() {
    var user = $('#user-filter').value.trim();
    if (!user) {
      return;
    }
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    fetch('api/notifications?user=' + encodeURIComponent(user), { headers: headers, cache: 'no-store' })
      .then(function (r) {
        return r.ok ? r.json() : [];
      })
      .then(addNotifications)
      .catch(function () { /* the live stream still works */ });
  }

  // ------------------------------------------------------------------------------------------------ failures

  renderers.failures = function () {
    var tbody = $('#failures tbody');
    tbody.replaceChildren.apply(tbody, state.failures.map(function (f) {
      return el('tr', { 'data-job-id': f.jobId }, [
        el('td', { text: fmtTime(f.endedAt) }),
        el('td', { className: 'job', text: f.jobId }),
        el('td', { text: f.userId }),
        el('td', { text: systemLabel(f.hpcSystem) }),
        el('td', { className: 'pipeline', text: f.pipeline }),
        el('td', { className: 'message' }, [
          el('span', { className: 'error-code', text: f.errorCode }),
          el('span', { className: 'error-message', text: f.errorMessage ? ' ' + f.errorMessage : '' })
        ])
      ]);
    }));
  };

  // ------------------------------------------------------------------------------------------------ health

  renderers.health = function () {
    var h = state.health;
    if (!h) {
      return;
    }
    renderLag();
    var d = h.deadLetters;
    setText($('#dead-letter-rate'), d.perMinute + ' per minute over the last 5 minutes · ' + d.total +
      ' since ' + fmtTime(d.since));
    $('#dead-letter-rate').setAttribute('data-total', String(d.total));
    var reasons = Object.keys(d.byReason).map(function (r) {
      return r + ' ' + d.byReason[r];
    });
    setText($('#dead-letter-reasons'), reasons.length ? reasons.join(' · ') : 'none');
    setText($('#kafka-status'), h.kafkaPartitions + ' partitions, read_committed' +
      (h.kafkaError ? ' · ' + h.kafkaError : '') + (h.undecodable ? ' · ' + h.undecodable + ' undecodable' : ''));
    setText($('#database-status'), h.database + (h.alertsTable ? '' : ' · no alerts table (alerts from the topic only)'));

    var f = h.flink;
    var tbody = $('#flink-jobs tbody');
    $('#flink-jobs').hidden = !f.configured || !f.reachable;
    if (!f.configured) {
      setText($('#flink-status'), 'Not configured (start with --flink-rest URL).');
    } else if (!f.reachable) {
      setText($('#flink-status'), 'Cannot reach ' + f.url + ': ' + f.error);
    } else {
      setText($('#flink-status'), f.jobs.length + ' job(s) at ' + f.url);
    }
    tbody.replaceChildren.apply(tbody, (f.jobs || []).map(function (j) {
      var hasCheckpoint = j.lastCheckpointId !== null && j.lastCheckpointId !== undefined;
      return el('tr', { 'data-flink-job': j.id, 'data-checkpoint-id': hasCheckpoint ? j.lastCheckpointId : '' }, [
        el('td', { text: j.name }),
        el('td', { text: j.state }),
        el('td', { className: 'checkpoint', text: hasCheckpoint ? '#' + j.lastCheckpointId + ' ' + fmtTime(j.lastCheckpointAt) : '–' }),
        hasCheckpoint ? age('td', j.lastCheckpointAt) : el('td', { text: '–' }),
        el('td', { className: 'num', text: hasCheckpoint ? j.lastCheckpointDurationMs + ' ms' : '–' }),
        el('td', { className: 'num', text: fmtBytes(j.lastCheckpointSizeBytes) }),
        el('td', { className: 'num', text: j.failedCheckpoints })
      ]);
    }));
  };

  function renderLag() {
    var h = state.health;
    if (!h) {
      return;
    }
    var lag = $('#event-lag');
    if (h.newestEventAt === null || h.newestEventAt === undefined) {
      setText(lag, 'no events applied yet');
      return;
    }
    setText(lag, fmtDuration(now() - h.newestEventAt) + ' (newest event applied to job_status: ' +
      fmtTime(h.newestEventAt) + ')');
  }

  // Ages and the lag move with the clock.
  setInterval(function () {
    document.querySelectorAll('[data-since]').forEach(function (e) {
      setText(e, fmtDuration(now() - Number(e.getAttribute('data-since'))));
    });
    renderLag();
  }, 1000);

  // ------------------------------------------------------------------------------------------------ stream

  function setConnection(s, label) {
    var c = $('#connection');
    c.setAttribute('data-state', s);
    setText(c, label);
  }

  function applySnapshot(snap) {
    state.snapshots += 1;
    document.body.setAttribute('data-snapshots', String(state.snapshots));
    document.body.setAttribute('data-server-instance', snap.instance);
    state.clockOffset = snap.serverTime - Date.now();
    state.counts = snap.counts;
    state.series = snap.series;
    state.failures = snap.failures;
    state.alerts = snap.alerts;
    state.health = snap.health;
    // Notifications are facts: those the page already has stay (a restarted server has a shorter backlog).
    addNotifications(snap.notifications);
    ['counts', 'series', 'failures', 'alerts', 'health'].forEach(invalidate);
  }

  var source = null;
  var retry = null;

  function connect() {
    if (source) {
      source.close();
    }
    source = new EventSource('api/events' + (token ? '?token=' + encodeURIComponent(token) : ''));
    source.addEventListener('open', function () {
      setConnection('live', 'live');
    });
    source.addEventListener('error', function () {
      setConnection('reconnecting', 'reconnecting…');
      // The browser retries network errors itself; after an HTTP error it gives up, so try again ourselves.
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(retry);
        retry = setTimeout(connect, 2000);
      }
    });
    source.addEventListener('snapshot', function (e) {
      applySnapshot(JSON.parse(e.data));
    });
    ['counts', 'series', 'failures', 'alerts', 'health'].forEach(function (part) {
      source.addEventListener(part, function (e) {
        state[part] = JSON.parse(e.data);
        invalidate(part);
      });
    });
    source.addEventListener('notifications', function (e) {
      addNotifications(JSON.parse(e.data));
    });
  }

  connect();
}());
