// The live view: polls /snapshot.json twice a second and draws it. No framework, no build step.
'use strict';

(() => {
  const POLL_MS = 500;
  // Past this many slots, cells stand for blocks of slots, so that the grid stays readable and cheap to draw.
  const MAX_CELLS = 256;
  const STATES = ['receiving', 'echoing', 'sending'];
  // [series, label, digits shown, the least top of the scale]: every chart scales from zero, and a series that
  // stays near zero (a p99 of 0.004 ms shows as 0.00) is drawn near the bottom, not as a full-height area.
  const CHARTS = [
    ['acceptedPerSecond', 'accepted/s', 0, 1],
    ['refusedPerSecond', 'refused/s', 0, 1],
    ['closedPerSecond', 'closed/s', 0, 1],
    ['mibPerSecond', 'MiB/s echoed', 1, 1],
    ['queueWaitP99Ms', 'queue wait p99, ms', 2, 1],
    ['oldestQueueWaitMs', 'oldest queue wait, ms', 2, 1],
  ];

  const $ = (id) => document.getElementById(id);
  const grid = $('slots');
  let cells = [];
  let snapshots = 0;

  const number = (n, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const bytes = (n) => {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${number(n, i === 0 ? 0 : 1)} ${units[i]}`;
  };
  const seconds = (s) => s < 1 ? `${number(s * 1000)} ms` : s < 60 ? `${number(s, 1)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;

  function facts(id, pairs) {
    const list = $(id);
    list.replaceChildren(...pairs.map(([name, value]) => {
      const row = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = name;
      dd.textContent = value;
      row.append(dt, dd);
      return row;
    }));
  }

  function header(s) {
    const p = s.pool;
    facts('pool', [
      ['pool', p.kind],
      [p.kind === 'workers' ? 'workers' : 'slots', number(p.workers)],
      ['queue', number(p.queueCapacity)],
      ['when full', p.whenFull],
      ['queue timeout', p.queueTimeoutSeconds > 0 ? seconds(p.queueTimeoutSeconds) : 'none'],
      ['connections', `${number(s.connections.open)} / ${number(s.connections.max)}`],
      ['state', s.state],
    ]);
    const r = s.process;
    facts('process', [
      ['pid', r.id],
      ['threads', number(r.threads)],
      ['RSS', bytes(r.rssBytes)],
      ['heap', bytes(r.heapBytes)],
      ['GC', r.gcCollections.join(' / ')],
      ['uptime', seconds(s.uptimeSeconds)],
    ]);
  }

  function slotTitle(slot) {
    const c = slot.client;
    return `${slot.worker} (slot ${slot.slot + 1}): ${slot.state}\n#${c.id} ${c.peer ?? ''}\nin ${bytes(c.bytesIn)}, out ${bytes(c.bytesOut)}\nage ${seconds(c.ageSeconds)}, in this slot ${seconds(c.sinceSeconds)}` +
      (c.details ? `\n${Object.entries(c.details).map(([k, v]) => `${k}=${v}`).join(', ')}` : '');
  }

  function layout(count, block) {
    if (cells.length === count && grid.dataset.block === String(block)) return;
    cells = Array.from({ length: count }, (_, i) => {
      const cell = document.createElement('div');
      cell.className = 'cell';
      cell.dataset.slot = String(i * block);
      return cell;
    });
    grid.replaceChildren(...cells);
    grid.dataset.block = String(block);
    grid.dataset.cells = String(count);
    grid.classList.toggle('blocks', block > 1);
  }

  function slots(s) {
    const p = s.pool;
    const executor = p.kind === 'executor';
    const block = Math.ceil(p.workers / MAX_CELLS);
    const count = Math.ceil(p.workers / block);
    layout(count, block);
    grid.dataset.busy = String(s.busy.length);

    const noun = executor ? 'slot' : 'worker';
    $('slots-title').textContent = executor ? 'Executor slots' : 'Worker threads';
    let summary = `${number(s.busy.length)} of ${number(p.workers)} ${noun}s busy`;
    if (executor) {
      summary += ` · ${number(s.connections.sessions ?? 0)} open sessions, ${number(s.connections.idle ?? 0)} idle (waiting for data, holding no slot and no buffer), ${number(s.connections.sending ?? 0)} sending (waiting for the client to take its echo, holding no slot)`;
    }
    if (s.faults) {
      summary += ` · faults (${s.faults.inForce}), faulted connections: ${number(s.faults.open)} open, ${number(s.faults.faulted)} since start`;
    }
    $('slots-summary').textContent = summary;
    $('slots-note').textContent = block > 1
      ? `${number(p.workers)} ${noun}s drawn as ${number(count)} blocks of ${block}: a block takes the colour of its most common busy state, paler when fewer of its ${noun}s are busy; hover for the counts.`
      : (executor ? 'A slot is held only while a burst is echoed (up to 16 reads); running bursts fill the first cells.' : '');

    if (block === 1) {
      const bySlot = new Map(s.busy.map((slot) => [slot.slot, slot]));
      cells.forEach((cell, i) => {
        const slot = bySlot.get(i);
        const state = slot ? slot.state : 'idle';
        cell.className = `cell ${state}`;
        cell.dataset.state = state;
        cell.title = slot ? slotTitle(slot) : executor ? `slot ${i + 1}: idle` : `echo-worker-${i + 1}: idle`;
      });
      return;
    }

    const tallies = cells.map(() => ({ busy: 0, receiving: 0, echoing: 0, sending: 0 }));
    for (const slot of s.busy) {
      const t = tallies[Math.floor(slot.slot / block)];
      t.busy++;
      if (slot.state in t) t[slot.state]++;
    }
    cells.forEach((cell, i) => {
      const t = tallies[i];
      const first = i * block + 1;
      const last = Math.min((i + 1) * block, p.workers);
      const size = last - first + 1;
      const state = t.busy === 0 ? 'idle' : STATES.reduce((a, b) => (t[b] > t[a] ? b : a));
      const level = t.busy === 0 ? 4 : Math.ceil((4 * t.busy) / size);
      cell.className = `cell ${state} level-${level}`;
      cell.dataset.state = state;
      cell.dataset.busy = String(t.busy);
      cell.title = `${noun}s ${first}–${last}: ${t.busy} of ${size} busy` +
        (t.busy ? ` (${STATES.filter((k) => t[k]).map((k) => `${t[k]} ${k}`).join(', ')})` : '');
    });
  }

  function queue(s) {
    const q = s.queue;
    const bar = $('queue');
    bar.dataset.queueLength = String(q.length);
    bar.dataset.queueCapacity = String(q.capacity);
    bar.title = q.waiting.slice(0, 20).map((w) => `#${w.id} ${w.peer ?? ''} waiting ${seconds(w.waitedSeconds)}`).join('\n');
    $('queue-fill').style.width = `${Math.min(100, (100 * q.length) / Math.max(q.capacity, 1))}%`;
    $('queue-summary').textContent = `${number(q.length)} of ${number(q.capacity)} waiting` +
      (q.length ? ` · oldest ${seconds(q.oldestWaitSeconds)}` : '') +
      ` · accepted ${number(s.connections.accepted)}, closed ${number(s.connections.served + s.connections.refused)} (${number(s.connections.refused)} of them refused)`;
  }

  function datagrams(s) {
    const u = s.udp;
    $('udp-panel').hidden = !u;
    if (!u) return;
    const reasons = Object.entries(u.droppedBy).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${number(n)}`);
    $('udp-summary').textContent = `received ${number(u.received)}, echoed ${number(u.echoed)}, dropped ${number(u.dropped)}` +
      (reasons.length ? ` (${reasons.join(', ')})` : '') +
      ` · ${bytes(u.bytesIn)} in, ${bytes(u.bytesOut)} out · busy ${number(u.busy)}, queue ${number(u.queued)}`;
  }

  const chartViews = CHARTS.map(([key, label, digits, least]) => {
    const box = document.createElement('div');
    box.className = 'chart';
    const title = document.createElement('h3');
    title.textContent = label;
    const value = document.createElement('p');
    value.className = 'value';
    const canvas = document.createElement('canvas');
    canvas.dataset.series = key;
    const axis = document.createElement('div');
    axis.className = 'axis';
    const from = document.createElement('span');
    const to = document.createElement('span');
    from.textContent = '−60 s';
    to.textContent = 'now';
    axis.append(from, to);
    box.append(title, value, canvas, axis);
    $('charts').append(box);
    return { key, digits, least, value, canvas };
  });

  function draw(view, history, now) {
    const { canvas, key, digits, least } = view;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 210;
    const height = canvas.clientHeight || 64;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d');
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, height);

    const points = history.map((h) => [h.uptimeSeconds, h[key]]);
    const latest = points.length ? points[points.length - 1][1] : 0;
    const peak = Math.max(0, ...points.map((p) => p[1]));
    const scale = Math.max(least, peak);
    const max = document.createElement('small');
    max.textContent = `max ${number(peak, digits)}`;
    view.value.replaceChildren(number(latest, digits), max);
    canvas.dataset.latest = String(latest);
    canvas.dataset.peak = String(peak);
    canvas.dataset.scale = String(scale);

    const top = 4;
    const bottom = height - 1;
    const x = (t) => width - ((now - t) / 60) * width;
    const y = (v) => bottom - (v / scale) * (bottom - top);
    if (points.length < 2) return;

    g.beginPath();
    points.forEach(([t, v], i) => (i ? g.lineTo(x(t), y(v)) : g.moveTo(x(t), y(v))));
    g.strokeStyle = '#3b6ea5';
    g.lineWidth = 1.5;
    g.stroke();
    g.lineTo(x(points[points.length - 1][0]), bottom);
    g.lineTo(x(points[0][0]), bottom);
    g.closePath();
    g.fillStyle = 'rgba(59, 110, 165, 0.12)';
    g.fill();
  }

  function render(s) {
    header(s);
    slots(s);
    queue(s);
    datagrams(s);
    chartViews.forEach((view) => draw(view, s.history, s.uptimeSeconds));
    snapshots++;
    document.body.dataset.snapshots = String(snapshots);
    const status = $('status');
    status.dataset.status = 'ok';
    status.textContent = `updated ${new Date(s.takenAt).toLocaleTimeString('en-GB')} · schema version ${s.version}`;
  }

  async function poll() {
    try {
      const response = await fetch('/snapshot.json', { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
    } catch (error) {
      const status = $('status');
      status.dataset.status = 'error';
      status.textContent = `cannot reach the server (${error.message}); retrying`;
    } finally {
      // One request at a time: the next poll starts only once this one has ended.
      setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
