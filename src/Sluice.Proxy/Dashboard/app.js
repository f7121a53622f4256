// The Sluice dashboard: reads /sluice/status every second and draws it. No framework, no build step, nothing
// fetched from anywhere but the proxy. Every value from the status is written with textContent, never as HTML:
// tenant and model names come from clients.
'use strict';

(() => {
  const KEY_STORAGE = 'sluice.dashboard.key';
  const POLL_MS = 1000;
  const TIMEOUT_MS = 5000;
  const SOURCE_NAMES = { configured: 'configured', headers: 'from headers', learned_from_429s: 'learned from 429s', none: '' };

  const byId = (id) => document.getElementById(id);
  let serverSkewMs = 0; // the proxy's clock minus ours, from the Date header: pause countdowns use the proxy's time
  let lastSuccess = null;
  let timer = null;
  let chartPoints = [];
  let chartInterval = 1;

  // ---- fetching -------------------------------------------------------------------------------------------------

  async function poll() {
    timer = null;
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { Accept: 'application/json' };
    if (key) {
      headers.Authorization = 'Bearer ' + key;
    }

    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      // Relative to /sluice/: the page works wherever the host mapped the proxy.
      const response = await fetch('status', { headers, cache: 'no-store', credentials: 'omit', redirect: 'error', signal: abort.signal });
      if (response.status === 401 || response.status === 403) {
        askForKey(key !== null);
        return; // polling resumes once a key is entered
      }
      if (!response.ok) {
        throw new Error('the status answered HTTP ' + response.status);
      }
      const date = Date.parse(response.headers.get('Date') || '');
      if (!Number.isNaN(date)) {
        // The header has whole seconds: the proxy's clock is half a second past it on average.
        serverSkewMs = date + 500 - Date.now();
      }
      const status = await response.json();
      hideKeyForm();
      render(status);
      showSuccess();
    } catch (error) {
      showFailure(error);
    } finally {
      clearTimeout(timeout);
    }
    schedule();
  }

  function schedule() {
    if (timer === null) {
      timer = setTimeout(poll, POLL_MS);
    }
  }

  function showSuccess() {
    lastSuccess = new Date();
    setState('live', 'pill-ok');
    byId('updated').textContent = lastSuccess.toLocaleTimeString();
    byId('updated').dateTime = lastSuccess.toISOString();
    byId('error').hidden = true;
    byId('main').classList.remove('stale');
  }

  function showFailure(error) {
    setState('unreachable', 'pill-error');
    const since = lastSuccess ? ' Showing the data of ' + lastSuccess.toLocaleTimeString() + '.' : '';
    const reason = error && error.name === 'AbortError' ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : String((error && error.message) || error);
    byId('error').textContent = 'The proxy is unreachable (' + reason + '); retrying every second.' + since;
    byId('error').hidden = false;
    byId('main').classList.add('stale');
  }

  function setState(text, style) {
    const state = byId('state');
    state.textContent = text;
    state.className = 'pill ' + style;
  }

  // ---- the key ---------------------------------------------------------------------------------------------------

  function askForKey(rejected) {
    if (rejected) {
      sessionStorage.removeItem(KEY_STORAGE);
    }
    setState('key needed', 'pill-warn');
    byId('key-message').textContent = rejected
      ? 'That key was not accepted. Enter the proxy key (or a tenant key).'
      : 'Enter the proxy key (or a tenant key). It is sent only to this proxy and kept in this tab\'s session storage until the tab closes.';
    byId('key-form').hidden = false;
    byId('main').hidden = true;
    byId('error').hidden = true;
    byId('key-input').focus();
  }

  function hideKeyForm() {
    byId('key-form').hidden = true;
    byId('main').hidden = false;
  }

  function submitKey(event) {
    event.preventDefault();
    const input = byId('key-input');
    const key = input.value.trim();
    input.value = '';
    if (key) {
      sessionStorage.setItem(KEY_STORAGE, key);
      setState('connecting', 'pill-wait');
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      poll();
    }
  }

  // ---- rendering -------------------------------------------------------------------------------------------------

  // An element with attributes and children (strings become text nodes, never HTML).
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === 'class') {
        element.className = value;
      } else if (name === 'testid') {
        element.dataset.testid = value;
      } else {
        element.setAttribute(name, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) {
        continue;
      }
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 0 });

  function count(value) {
    return value === null || value === undefined ? '–' : integer.format(value);
  }

  function compact(value) {
    if (value === null || value === undefined) {
      return '–';
    }
    const size = Math.abs(value);
    if (size >= 1e6) return decimal.format(value / 1e6) + 'M';
    if (size >= 1e4) return decimal.format(value / 1e3) + 'k';
    return size < 10 ? decimal.format(value) : integer.format(value);
  }

  function usd(value) {
    if (value === null || value === undefined) {
      return '–';
    }
    return '$' + Number(value).toFixed(Math.abs(value) < 1 ? 4 : 2);
  }

  function render(status) {
    byId('draining').hidden = !status.draining;
    renderHistory(status.history);
    renderTenants(status.tenants);
    const upstreams = status.upstreams || [];
    byId('upstreams').replaceChildren(...upstreams.map(renderUpstream));
  }

  function renderHistory(history) {
    // The status lists only the seconds in which a try ended: the others were zeros. The window is the 300 seconds
    // ending now on the proxy's clock; the current second, still filling, is left out of the chart and the rate.
    const interval = (history && history.interval_seconds) || 1;
    const listed = (history && history.points) || [];
    const now = Math.max(Math.floor((Date.now() + serverSkewMs) / 1000), listed.length ? listed[listed.length - 1].at : 0);
    const inWindow = listed.filter((point) => point.at > now - 300);
    const byTime = new Map(inWindow.map((point) => [point.at, point]));
    const complete = [];
    for (let at = now - 299; at < now; at++) {
      complete.push(byTime.get(at) || { at, admitted: 0, answered: 0, throttled: 0, retries: 0 });
    }

    const sum = (field) => inWindow.reduce((total, point) => total + (point[field] || 0), 0);
    byId('sum-answered').textContent = count(sum('answered'));
    byId('sum-admitted').textContent = count(sum('admitted'));
    byId('sum-throttled').textContent = count(sum('throttled'));
    byId('sum-retries').textContent = count(sum('retries'));
    const recent = complete.slice(-10);
    const rate = recent.reduce((total, point) => total + point.answered, 0) / (recent.length * interval);
    byId('rate-answered').textContent = decimal.format(rate);
    chartPoints = complete;
    chartInterval = interval;
    drawChart(byId('chart'), chartPoints, chartInterval);
  }

  function renderTenants(tenants) {
    const section = byId('tenants');
    if (!Array.isArray(tenants) || tenants.length === 0) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    byId('tenant-rows').replaceChildren(...tenants.map((tenant) => h('tr', { testid: 'tenant', 'data-name': tenant.name },
      h('td', { class: 'share-name' }, tenant.name),
      h('td', { class: 'num' }, decimal.format(tenant.weight)),
      h('td', { class: 'num' }, count(tenant.priority)),
      h('td', {}, tenant.source === 'key' ? 'key' : tenant.source === 'header' ? 'header' : tenant.source || ''),
      h('td', { class: 'num', testid: 'tenant-requests' }, count(tenant.requests)),
      h('td', { class: 'num', testid: 'tenant-answered' }, count(tenant.answered)),
      h('td', { class: 'num', testid: 'tenant-refused' }, count(tenant.refused)),
      h('td', { class: 'num', testid: 'tenant-spent' }, usd(tenant.spent_today)))));
  }

  function renderUpstream(upstream) {
    const partitions = upstream.partitions || [];
    const inFlight = partitions.reduce((total, partition) => total + partition.in_flight, 0);
    const waiting = partitions.reduce((total, partition) => total + partition.queued, 0);
    const spend = upstream.spend || {};
    const spendText = spend.max_per_day !== null && spend.max_per_day !== undefined
      ? [usd(spend.spent_today), h('small', {}, ' of ' + usd(spend.max_per_day))]
      : [usd(spend.spent_since_start), h('small', {}, ' since start')];
    const cache = upstream.cache || {};

    return h('section', { class: 'card', testid: 'upstream', 'data-name': upstream.name },
      h('div', { class: 'card-head' },
        h('div', {},
          h('h2', {}, upstream.name),
          h('div', { class: 'card-meta muted' },
            upstream.provider + ' · ' + upstream.url + ' · ' + (upstream.key === 'proxy' ? "the proxy's key" : "clients' keys") +
            ' · concurrency ' + upstream.concurrency))),
      h('div', { class: 'tiles' },
        tile('in flight', count(inFlight), 'upstream-in-flight'),
        tile('waiting', count(waiting), 'upstream-waiting'),
        tile('429s', count(upstream.throttled), 'upstream-throttled', upstream.throttled > 0 ? 'tile-alert' : ''),
        tile('retries', count(upstream.retries), 'upstream-retries'),
        tile(spend.max_per_day !== null && spend.max_per_day !== undefined ? 'spent today' : 'spent', spendText, 'upstream-spend'),
        tile('reserved', usd(spend.reserved), 'upstream-reserved'),
        spend.refused ? tile('refused by cap', count(spend.refused), 'upstream-spend-refused') : null,
        cache.enabled ? tile('cache hits', [count(cache.hits), h('small', {}, ' / ' + count(cache.hits + cache.misses))], 'upstream-cache') : null),
      partitions.length === 0
        ? h('p', { class: 'muted' }, 'No partitions yet: no request has reached this upstream (or they were idle and removed).')
        : h('table', { class: 'grid' },
          h('thead', {}, h('tr', {},
            h('th', {}, 'Partition'),
            h('th', {}, 'Requests/min'),
            h('th', {}, 'Tokens/min'),
            h('th', { class: 'num' }, 'In flight'),
            h('th', { class: 'num' }, 'Waiting'),
            h('th', {}, 'Concurrency'),
            h('th', {}, 'State'))),
          h('tbody', {}, partitions.flatMap(renderPartition))));
  }

  function tile(label, value, testid, extraClass) {
    return h('div', { class: 'tile ' + (extraClass || '') },
      h('span', { class: 'tile-label' }, label),
      h('span', { class: 'tile-value', testid }, value));
  }

  function budget(perMinute, source, available, testid) {
    if (perMinute === null || perMinute === undefined) {
      return h('td', { testid }, h('span', { class: 'muted' }, 'no budget'));
    }
    return h('td', { testid },
      compact(perMinute),
      SOURCE_NAMES[source] ? h('span', { class: 'badge badge-' + source }, SOURCE_NAMES[source]) : null,
      h('div', { class: 'muted' }, compact(available) + ' available'));
  }

  function renderPartition(partition) {
    // upstream|key:fingerprint|model group: the model group first, the key's fingerprint (never a key) beside it.
    const parts = String(partition.key).split('|');
    const group = parts.length >= 3 ? parts.slice(2).join('|') : partition.key;
    const credential = parts.length >= 3 ? parts[1] : '';
    const tenants = Array.isArray(partition.tenants) ? partition.tenants : [];

    const row = h('tr', { testid: 'partition', 'data-key': partition.key, class: tenants.length ? 'has-sub' : null },
      h('td', {}, h('strong', {}, group), h('div', { class: 'muted' }, credential)),
      budget(partition.rpm, partition.rpm_source, partition.requests_available, 'partition-rpm'),
      budget(partition.tpm, partition.tpm_source, partition.tokens_available, 'partition-tpm'),
      h('td', { class: 'num', testid: 'partition-in-flight' }, count(partition.in_flight)),
      h('td', { class: 'num', testid: 'partition-waiting' }, count(partition.queued)),
      h('td', { testid: 'partition-limit' }, count(partition.concurrency_limit),
        h('span', { class: 'badge' }, partition.adaptive_concurrency ? 'adaptive' : 'fixed')),
      h('td', { testid: 'partition-state' }, partitionState(partition)));
    if (!tenants.length) {
      return [row];
    }
    return [row, h('tr', { class: 'sub' }, h('td', { colspan: 7 }, renderShares(tenants)))];
  }

  function partitionState(partition) {
    if (partition.stopped) {
      return h('span', { class: 'badge badge-stopped', title: partition.stopped }, 'stopped: ' + partition.stopped);
    }
    if (partition.paused_until) {
      const left = (Date.parse(partition.paused_until) - (Date.now() + serverSkewMs)) / 1000;
      if (left > 0) {
        return h('span', { class: 'badge badge-paused', title: 'until ' + partition.paused_until }, 'paused ' + Math.ceil(left) + ' s');
      }
    }
    return h('span', { class: 'badge badge-ok' }, 'running');
  }

  // Each tenant's share of the partition's budget over the last seconds (bar) against its due share (the mark).
  function renderShares(tenants) {
    return h('div', { class: 'shares' }, tenants.flatMap((tenant) => {
      const received = clamp(tenant.share_received);
      const due = tenant.share_due === null || tenant.share_due === undefined ? null : clamp(tenant.share_due);
      const fill = h('div', { class: 'bar-fill' });
      fill.style.width = (received * 100).toFixed(1) + '%'; // CSSOM, which the policy allows (no inline style attribute)
      const bar = h('div', { class: 'bar', testid: 'share-bar', title: 'received ' + percent.format(received) + (due === null ? '' : ', due ' + percent.format(due)) }, fill);
      if (due !== null) {
        const mark = h('div', { class: 'bar-due' });
        mark.style.left = (due * 100).toFixed(1) + '%';
        bar.append(mark);
      }
      return [
        h('div', { class: 'share-name', testid: 'partition-tenant', 'data-name': tenant.name }, tenant.name, h('span', { class: 'muted' }, ' ×' + decimal.format(tenant.weight))),
        bar,
        h('div', { class: 'share-text', testid: 'tenant-share', 'data-name': tenant.name },
          h('span', { testid: 'share-received' }, percent.format(received)), ' received · ',
          h('span', { testid: 'share-due' }, due === null ? 'nothing waiting' : percent.format(due) + ' due'), ' · ',
          h('span', { testid: 'tenant-in-flight' }, count(tenant.in_flight)), ' in flight · ',
          h('span', { testid: 'tenant-waiting' }, count(tenant.waiting)), ' waiting · ',
          h('span', { testid: 'tenant-admitted' }, count(tenant.admitted)), ' admitted'),
      ];
    }));
  }

  function clamp(value) {
    return Math.min(1, Math.max(0, Number(value) || 0));
  }

  // ---- the chart -------------------------------------------------------------------------------------------------

  function drawChart(canvas, points, interval) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) {
      return;
    }
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);

    const style = getComputedStyle(document.documentElement);
    const colour = (name) => style.getPropertyValue(name).trim();
    const left = 44;
    const right = 8;
    const top = 8;
    const bottom = 20;
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const seconds = 300;
    const highest = points.reduce((max, point) => Math.max(max, point.answered / interval, point.throttled / interval), 0);
    const scale = niceCeiling(Math.max(highest, 1));

    // Grid, y labels (per second) and x labels (minutes ago).
    context.font = '11px system-ui, sans-serif';
    context.fillStyle = colour('--muted');
    context.strokeStyle = colour('--line');
    context.lineWidth = 1;
    context.textAlign = 'right';
    context.textBaseline = 'middle';
    for (let step = 0; step <= 4; step++) {
      const y = top + plotHeight - (plotHeight * step) / 4;
      context.beginPath();
      context.moveTo(left, Math.round(y) + 0.5);
      context.lineTo(width - right, Math.round(y) + 0.5);
      context.stroke();
      context.fillText(decimal.format((scale * step) / 4), left - 6, y);
    }
    context.textAlign = 'center';
    context.textBaseline = 'top';
    for (let minute = 0; minute <= 5; minute++) {
      const x = left + plotWidth * (1 - minute / 5);
      context.fillText(minute === 0 ? 'now' : '−' + minute + ' min', Math.min(Math.max(x, left + 14), width - right - 14), top + plotHeight + 5);
    }

    // The newest point sits at the right edge; older seconds to its left.
    const newest = points.length ? points[points.length - 1].at : 0;
    const xOf = (point) => left + plotWidth * (1 - (newest - point.at) / seconds);
    const yOf = (value) => top + plotHeight - (plotHeight * value) / scale;
    const line = (field, name) => {
      context.beginPath();
      points.forEach((point, index) => {
        const x = xOf(point);
        const y = yOf(point[field] / interval);
        if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
      });
      context.strokeStyle = colour(name);
      context.lineWidth = 1.75;
      context.lineJoin = 'round';
      context.stroke();
    };
    if (points.length > 1) {
      line('answered', '--accent');
      line('throttled', '--throttled');
    }

    // What the tests (and a curious reader) can check without reading pixels.
    canvas.dataset.points = String(points.length);
    canvas.dataset.answeredSeconds = String(points.filter((point) => point.answered > 0).length);
    canvas.dataset.throttledSeconds = String(points.filter((point) => point.throttled > 0).length);
    canvas.dataset.scale = String(scale);
  }

  function niceCeiling(value) {
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * magnitude >= value) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  // ---- start -----------------------------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    byId('key-form').addEventListener('submit', submitKey);
    // The chart follows the window's width between polls too.
    window.addEventListener('resize', () => drawChart(byId('chart'), chartPoints, chartInterval));
    poll();
  });
})();
