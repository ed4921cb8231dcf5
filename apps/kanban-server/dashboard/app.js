/* global document, window, fetch, Node, FormData, URLSearchParams, setInterval, clearInterval -- a browser script */
// The operator dashboard: a page over the server's HTTP API, authenticated by the session cookie.
// Every text from the server goes in through textContent, never as HTML: payloads are user data.

const REFRESH_MS = 1000;
const CSRF_COOKIE = 'kanban_csrf';
const CSRF_HEADER = 'x-kanban-csrf';
const DLQ_PAGE = 50;

const GROUP_PAGE = 50;

const state = { role: null, timer: null, letters: [], nextCursor: undefined, search: {}, selected: new Set(), busy: false, groups: { domain: '', items: [], nextCursor: undefined } };

class ApiError extends Error {
  constructor(status, body) {
    super(typeof body.message === 'string' ? body.message : Array.isArray(body.message) ? body.message.join('; ') : `HTTP ${status}`);
    this.status = status;
    this.code = body.code;
  }
}

const $ = (id) => document.getElementById(id);

/** An element with attributes, event handlers (on…) and children (nodes or text). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  return element;
}

function csrfValue() {
  const pair = document.cookie.split('; ').find((entry) => entry.startsWith(`${CSRF_COOKIE}=`));
  return pair ? decodeURIComponent(pair.slice(CSRF_COOKIE.length + 1)) : '';
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers[CSRF_HEADER] = csrfValue();
  const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && state.role) showLogin('Your session ended: log in again.');
    throw new ApiError(response.status, answer);
  }
  return answer;
}

const isOperator = () => state.role === 'operator';
const time = (epochMs) => (epochMs ? new Date(epochMs).toLocaleTimeString() : '—');
const notice = (text) => ($('notice').textContent = text);

function showLogin(message = '') {
  clearInterval(state.timer);
  state.role = null;
  $('app').hidden = true;
  $('logout').hidden = true;
  $('role').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function showApp(role, authRequired) {
  state.role = role;
  $('login').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = !authRequired;
  $('role').textContent = role === 'operator' ? 'operator' : 'read-only';
  // Read-only users get no mutation controls at all; the server refuses the mutations anyway.
  for (const element of document.querySelectorAll('.operator-only')) element.hidden = !isOperator();
  renderBulkActions();
  renderWorkerActions();
  renderScheduleForms();
  renderGroupLimitsForm();
  refresh();
  clearInterval(state.timer);
  state.timer = setInterval(refresh, REFRESH_MS);
  searchDeadLetters();
}

async function refresh() {
  try {
    const [overview, schedules] = await Promise.all([api('GET', '/dashboard/api/overview'), api('GET', '/schedules')]);
    renderQueues(overview);
    renderWorkers(overview);
    renderBrokers(overview);
    renderSchedules(schedules);
    notice('');
  } catch (error) {
    if (state.role) notice(`Refresh failed: ${error.message}`);
  }
}

function renderQueues(overview) {
  $('sampled-at').textContent = overview.sampledAt ? `sampled ${time(overview.sampledAt)}` : 'waiting for the first sample';
  const rows = [...overview.queues].sort((a, b) => a.domain.localeCompare(b.domain) || a.priority.localeCompare(b.priority) || a.broker.localeCompare(b.broker));
  $('queues').tBodies[0].replaceChildren(
    ...rows.map((queue) =>
      h(
        'tr',
        { 'data-queue': `${queue.priority}:${queue.domain}:${queue.broker}` },
        h('td', {}, queue.domain),
        h('td', {}, queue.priority),
        h('td', {}, queue.broker),
        h('td', { class: 'num', 'data-field': 'ready' }, queue.ready),
        h('td', { class: 'num', 'data-field': 'in-flight' }, queue.inFlight),
        h('td', { class: 'num' }, queue.ackedPerMinute.toFixed(0)),
      ),
    ),
  );
  renderChart(overview.depthHistory);
}

function renderChart(points) {
  const svg = $('depth-chart');
  if (points.length < 2) return svg.replaceChildren();
  const [width, height] = [600, 140];
  const first = points[0].at;
  const span = Math.max(points.at(-1).at - first, 1);
  const top = Math.max(1, ...points.map((point) => Math.max(point.ready, point.inFlight)));
  const line = (field, cls) => {
    const coordinates = points.map((point) => `${(((point.at - first) / span) * width).toFixed(1)},${(height - 4 - (point[field] / top) * (height - 8)).toFixed(1)}`);
    return polyline(coordinates.join(' '), cls);
  };
  svg.replaceChildren(line('ready', 'ready'), line('inFlight', 'in-flight'));
}

function polyline(points, cls) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  element.setAttribute('points', points);
  element.setAttribute('class', cls);
  return element;
}

function renderWorkers(overview) {
  const health = overview.coordinator;
  $('coordinator-summary').textContent =
    `${health.current_workers} workers (target ${health.target_workers}), ${health.open_circuit_breakers} open breakers${health.queue_draining ? ', draining' : ''}`;
  $('workers').tBodies[0].replaceChildren(
    ...overview.workers.map((worker) =>
      h(
        'tr',
        {},
        h('td', {}, worker.id),
        h('td', {}, `${worker.priority ?? 'any'}:${worker.domain}`),
        h('td', { class: `state-${worker.state}` }, worker.state),
        h('td', { class: 'num' }, worker.inFlight),
        h('td', { class: 'num' }, worker.processed),
        h('td', { class: 'num' }, worker.failed),
      ),
    ),
  );
}

function renderWorkerActions() {
  if (!isOperator()) return $('workers-actions').replaceChildren();
  const reset = h(
    'button',
    {
      type: 'button',
      id: 'reset-breakers',
      onclick: () =>
        act(
          'Reset every open circuit breaker?',
          () => api('POST', '/coordinator/breakers/reset'),
          (result) => `Closed ${result.closed} open circuit breaker${result.closed === 1 ? '' : 's'}`,
          'workers-result',
        ),
    },
    'Reset breakers',
  );
  const count = h(
    'form',
    { class: 'inline', id: 'workers-form' },
    h('input', { name: 'count', type: 'number', min: 0, required: true, placeholder: 'workers per handler', 'aria-label': 'workers per handler' }),
    h('button', { type: 'submit' }, 'Set workers'),
  );
  count.addEventListener('submit', (event) => {
    event.preventDefault();
    const workers = Number(new FormData(count).get('count'));
    act(
      `Run ${workers} workers per handler? Autoscaling pauses until the server restarts.`,
      () => api('POST', '/coordinator/workers', { count: workers }),
      (health) => `Workers set to ${workers} per handler (${health.current_workers} running)`,
      'workers-result',
    );
  });
  $('workers-actions').replaceChildren(reset, count);
}

function renderBrokers(overview) {
  const { state: brokerState, active } = overview.broker;
  const badge = $('broker-badge');
  badge.textContent = `${active}: ${brokerState}`;
  badge.className = `badge ${brokerState === 'up' ? 'up' : brokerState === 'degraded' ? 'degraded' : 'down'}`;
  $('broker-state').textContent = `Active broker ${active}, ${brokerState}${overview.broker.detail ? ` (${overview.broker.detail})` : ''}`;
  $('broker-history').tBodies[0].replaceChildren(
    ...[...overview.brokerHistory].reverse().map((change) => h('tr', {}, h('td', {}, time(change.at)), h('td', {}, change.state), h('td', {}, change.active))),
  );
}

function renderSchedules(schedules) {
  $('schedules').tBodies[0].replaceChildren(
    ...schedules.map((schedule) =>
      h(
        'tr',
        { 'data-job': schedule.jobId },
        h('td', {}, schedule.jobId),
        h('td', {}, schedule.kind),
        h('td', {}, `${schedule.priority}:${schedule.domain}`),
        h('td', {}, schedule.kind === 'cron' ? schedule.cron : `${schedule.intervalMs} ms`),
        h('td', { class: 'num' }, schedule.published),
        h('td', { class: 'num' }, schedule.skipped),
        h('td', { class: 'num' }, schedule.failed),
        h(
          'td',
          {},
          isOperator()
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  onclick: () =>
                    act(
                      `Delete schedule ${schedule.jobId}?`,
                      () => api('DELETE', `/schedules/${encodeURIComponent(schedule.jobId)}`),
                      () => `Schedule ${schedule.jobId} deleted`,
                      'schedules-result',
                    ),
                },
                'Delete',
              )
            : '',
        ),
      ),
    ),
  );
}

function renderScheduleForms() {
  if (!isOperator()) return $('schedule-forms').replaceChildren();
  const field = (name, attributes) => h('input', { name, ...attributes });
  const add = h(
    'form',
    { class: 'inline', id: 'schedule-form' },
    field('name', { placeholder: 'name (optional)' }),
    h('select', { name: 'priority' }, h('option', {}, 'normal'), h('option', {}, 'high'), h('option', {}, 'low')),
    field('domain', { placeholder: 'domain', required: true }),
    field('every', { placeholder: 'interval ms or cron', required: true }),
    field('deadlineMs', { placeholder: 'deadline ms', type: 'number', min: 1, value: 60000 }),
    field('payload', { placeholder: 'payload JSON (optional)' }),
    h('button', { type: 'submit' }, 'Add schedule'),
  );
  add.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(add));
    const every = form.every.trim();
    const body = {
      priority: form.priority,
      domain: form.domain.trim(),
      deadlineMs: Number(form.deadlineMs),
      ...(form.name ? { name: form.name.trim() } : {}),
      ...(/^\d+$/.test(every) ? { type: 'interval', intervalMs: Number(every) } : { type: 'cron', cron: every }),
    };
    try {
      if (form.payload) body.payload = JSON.parse(form.payload);
    } catch {
      return notice('The payload is not valid JSON');
    }
    act(
      null,
      () => api('POST', '/schedules', body),
      (result) => `Schedule ${result.jobId} added`,
      'schedules-result',
    );
  });
  const canary = h('form', { class: 'inline', id: 'canary-form' }, field('domain', { placeholder: 'domain', required: true }), h('button', { type: 'submit' }, 'Run a canary'));
  canary.addEventListener('submit', (event) => {
    event.preventDefault();
    const domain = new FormData(canary).get('domain').trim();
    act(
      null,
      () => api('POST', '/schedules/canary', { domain, payload: null }),
      (result) => `Canary ${result.jobId} published to ${result.broker} as item ${result.itemId} (${result.status})`,
      'schedules-result',
    );
  });
  $('schedule-forms').replaceChildren(add, canary);
}

/** Runs one mutation after an optional confirmation, reports the outcome in the element `resultId`, refreshes. */
async function act(question, run, describe, resultId) {
  if (question && !window.confirm(question)) return;
  try {
    const result = await run();
    notice('');
    $(resultId).textContent = describe(result);
  } catch (error) {
    notice(error.message);
  }
  refresh();
}

// Dead letters: searched on the server (bounded scan, cursor), never downloaded wholesale.

async function searchDeadLetters(more = false) {
  if (!more) {
    const text = $('dlq-text').value.trim();
    const domain = $('dlq-domain').value.trim();
    const reason = $('dlq-reason').value;
    state.search = { ...(text ? { text } : {}), ...(domain ? { domain } : {}), ...(reason ? { reason } : {}) };
    state.letters = [];
    state.nextCursor = undefined;
    state.selected.clear();
  }
  const query = new URLSearchParams({ ...state.search, limit: String(DLQ_PAGE), ...(more && state.nextCursor ? { cursor: state.nextCursor } : {}) });
  try {
    const page = await api('GET', `/dead-letters?${query}`);
    state.letters.push(...page.items);
    state.nextCursor = page.nextCursor;
    renderDeadLetters();
  } catch (error) {
    notice(`Dead-letter search failed: ${error.message}`);
  }
}

function renderDeadLetters() {
  $('dead-letters').tBodies[0].replaceChildren(
    ...state.letters.map((letter) =>
      h(
        'tr',
        { 'data-letter': letter.id },
        h(
          'td',
          {},
          isOperator()
            ? h('input', { type: 'checkbox', 'aria-label': `select ${letter.id}`, checked: state.selected.has(letter.id), onchange: (event) => toggle(letter.id, event.target.checked) })
            : '',
        ),
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showDeadLetter(letter.id) }, letter.id)),
        h('td', {}, letter.domain),
        h('td', {}, letter.priority),
        h('td', {}, letter.reason),
        h('td', { class: 'num' }, letter.attempts),
        h('td', { class: 'error-text' }, letter.error ?? ''),
        h('td', {}, time(letter.deadLetteredAt)),
      ),
    ),
  );
  $('dlq-more').replaceChildren(
    state.letters.length === 0 ? 'No dead letters match.' : '',
    state.nextCursor ? h('button', { type: 'button', class: 'link', onclick: () => searchDeadLetters(true) }, 'Search further') : '',
  );
  renderBulkActions();
}

function toggle(id, selected) {
  if (selected) state.selected.add(id);
  else state.selected.delete(id);
  renderBulkActions();
}

function renderBulkActions() {
  if (!isOperator()) return $('dlq-bulk').replaceChildren();
  const count = state.selected.size;
  $('dlq-bulk').replaceChildren(
    h(
      'button',
      {
        type: 'button',
        id: 'select-all',
        onclick: () => {
          state.letters.forEach((letter) => state.selected.add(letter.id));
          renderDeadLetters();
        },
      },
      'Select all shown',
    ),
    h('button', { type: 'button', id: 'replay-selected', disabled: count === 0, onclick: () => bulk('replay', [...state.selected]) }, `Replay selected (${count})`),
    h('button', { type: 'button', id: 'purge-selected', class: 'danger', disabled: count === 0, onclick: () => bulk('purge', [...state.selected]) }, `Purge selected (${count})`),
  );
}

/** Replays or purges letters one by one, showing progress; a failure is reported and the rest go on. */
async function bulk(action, ids) {
  if (ids.length === 0 || state.busy) return;
  if (!window.confirm(`${action === 'replay' ? 'Replay' : 'Purge'} ${ids.length} dead letter${ids.length === 1 ? '' : 's'}?${action === 'purge' ? ' Purged letters are gone for good.' : ''}`)) return;
  state.busy = true;
  const failures = [];
  for (const [index, id] of ids.entries()) {
    $('dlq-progress').textContent = `${action === 'replay' ? 'Replaying' : 'Purging'} ${index + 1} of ${ids.length}…`;
    try {
      await (action === 'replay' ? api('POST', `/dead-letters/${encodeURIComponent(id)}/replay`) : api('DELETE', `/dead-letters/${encodeURIComponent(id)}`));
    } catch (error) {
      failures.push(`${id}: ${error.message}`);
    }
  }
  state.busy = false;
  $('dlq-progress').textContent = `${action === 'replay' ? 'Replayed' : 'Purged'} ${ids.length - failures.length} of ${ids.length}.${failures.length ? ` Failed: ${failures.join('; ')}` : ''}`;
  $('dlq-detail').hidden = true;
  searchDeadLetters();
}

async function showDeadLetter(id) {
  try {
    const letter = await api('GET', `/dead-letters/${encodeURIComponent(id)}`);
    const entry = (term, value) => [h('dt', {}, term), h('dd', {}, value)];
    $('dlq-detail').replaceChildren(
      h('h3', {}, `Dead letter ${letter.id}`),
      h(
        'dl',
        {},
        entry('Queue', `${letter.priority}:${letter.domain} on ${letter.broker}`),
        entry('Reason', letter.reason),
        entry('Error', letter.error ?? '—'),
        entry('Attempts', letter.attempts),
        entry('Dead-lettered', new Date(letter.deadLetteredAt).toISOString()),
      ),
      h('pre', { id: 'dlq-item' }, letter.item ? JSON.stringify(letter.item, null, 2) : `raw (base64): ${letter.raw ?? ''}`),
      isOperator()
        ? h(
            'div',
            { class: 'inline' },
            h('button', { type: 'button', id: 'replay-one', onclick: () => bulk('replay', [letter.id]) }, 'Replay'),
            h('button', { type: 'button', id: 'purge-one', class: 'danger', onclick: () => bulk('purge', [letter.id]) }, 'Purge'),
          )
        : '',
    );
    $('dlq-detail').hidden = false;
  } catch (error) {
    notice(error.message);
  }
}

// Groups (fair share): one domain's groups, paged by the server's cursor; limits set per group.

async function showGroups(more = false) {
  if (!more) state.groups = { domain: $('groups-domain').value.trim(), items: [], nextCursor: undefined };
  const { domain, nextCursor } = state.groups;
  if (!domain) return;
  const query = new URLSearchParams({ limit: String(GROUP_PAGE), ...(more && nextCursor ? { cursor: nextCursor } : {}) });
  try {
    const page = await api('GET', `/groups/${encodeURIComponent(domain)}?${query}`);
    state.groups.items.push(...page.items);
    state.groups.nextCursor = page.nextCursor;
    renderGroups();
  } catch (error) {
    notice(`Groups of ${domain}: ${error.message}`);
  }
}

function renderGroups() {
  const limit = (value) => (value === undefined ? '—' : String(value));
  $('groups').tBodies[0].replaceChildren(
    ...state.groups.items.map((entry) =>
      h(
        'tr',
        { 'data-group': entry.group },
        h('td', {}, entry.group === '' ? '(no group)' : entry.group),
        h('td', { class: 'num', 'data-field': 'ready' }, entry.ready),
        h('td', { class: 'num', 'data-field': 'in-flight' }, entry.inFlight),
        h('td', { class: 'num', 'data-field': 'max-in-flight' }, limit(entry.limits.maxInFlight)),
        h('td', { class: 'num', 'data-field': 'rate' }, limit(entry.limits.ratePerSecond)),
        h('td', {}, entry.override ? 'its own' : 'defaults'),
      ),
    ),
  );
  $('groups-more').replaceChildren(
    state.groups.items.length === 0 ? `No groups in ${state.groups.domain}.` : '',
    state.groups.nextCursor ? h('button', { type: 'button', class: 'link', id: 'groups-next', onclick: () => showGroups(true) }, 'More groups') : '',
  );
}

function renderGroupLimitsForm() {
  if (!isOperator()) return $('group-limits-forms').replaceChildren();
  const form = h(
    'form',
    { class: 'inline', id: 'group-limits-form' },
    h('input', { name: 'group', placeholder: 'group', required: true }),
    h('input', { name: 'maxInFlight', type: 'number', min: 1, step: 1, placeholder: 'max in flight (empty: none)' }),
    h('input', { name: 'ratePerSecond', type: 'number', min: 0, step: 'any', placeholder: 'rate per second (empty: none)' }),
    h('button', { type: 'submit' }, 'Set group limits'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const domain = state.groups.domain;
    if (!domain) return notice("Show a domain's groups first");
    const fields = Object.fromEntries(new FormData(form));
    const group = fields.group.trim();
    // Empty fields are left out; both empty clear the group's own limits.
    const limits = {
      ...(fields.maxInFlight ? { maxInFlight: Number(fields.maxInFlight) } : {}),
      ...(fields.ratePerSecond ? { ratePerSecond: Number(fields.ratePerSecond) } : {}),
    };
    const described = Object.keys(limits).length === 0 ? 'clear the own limits of' : `set ${JSON.stringify(limits)} on`;
    act(
      `${described[0].toUpperCase()}${described.slice(1)} group ${group} of ${domain}?`,
      () => api('PUT', `/groups/${encodeURIComponent(domain)}/${encodeURIComponent(group)}/limits`, limits),
      (updated) => `Group ${updated.group}: max in flight ${updated.limits.maxInFlight ?? 'none'}, rate ${updated.limits.ratePerSecond ?? 'none'}/s`,
      'groups-result',
    ).then(() => showGroups());
  });
  $('group-limits-forms').replaceChildren(form);
}

async function start() {
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { role } = await api('POST', '/dashboard/session', { token: $('token').value });
      $('token').value = '';
      showApp(role, true);
    } catch (error) {
      $('login-error').textContent = error.status === 401 ? 'That token is not valid.' : error.message;
    }
  });
  $('logout').addEventListener('click', async () => {
    await api('DELETE', '/dashboard/session').catch(() => undefined);
    showLogin();
  });
  $('dlq-search').addEventListener('submit', (event) => {
    event.preventDefault();
    searchDeadLetters();
  });
  $('groups-search').addEventListener('submit', (event) => {
    event.preventDefault();
    showGroups();
  });
  try {
    const session = await api('GET', '/dashboard/session');
    showApp(session.role, session.authRequired);
  } catch {
    showLogin();
  }
}

start();
