// Mailsink's web UI: makes the server-rendered pages live. It listens to
// /api/events and acts through the REST API. Message data only ever reaches
// the page through textContent and attribute values, never as markup.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const page = document.body.dataset.page;

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response;
}

// --- Counts: the header, the title and the favicon show the unread count.

function showCounts(total, unread) {
  $('#total').textContent = total;
  $('#unread').textContent = unread;
  const base = `${document.body.dataset.title} · Mailsink`;
  document.title = unread > 0 ? `(${unread}) ${base}` : base;
  const badge = unread > 0
    ? `<circle cx="23" cy="9" r="9" fill="#d93025"/><text x="23" y="13" font-size="${unread > 99 ? 8 : 11}" font-family="sans-serif" font-weight="bold" fill="#fff" text-anchor="middle">${unread > 99 ? '99+' : Number(unread)}</text>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="6" width="28" height="20" rx="3" fill="#2457c5"/><path d="M4 9l12 9 12-9" fill="none" stroke="#fff" stroke-width="2.5"/>${badge}</svg>`;
  $('link[rel=icon]').href = `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

// --- The live channel, reconnecting with a growing pause.

function connect(handlers, delay = 500) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/api/events`);
  socket.addEventListener('open', () => { delay = 500; document.body.dataset.live = 'on'; });
  socket.addEventListener('message', (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch { return; }
    if (frame.Type === 'stats') showCounts(frame.Data.Total, frame.Data.Unread);
    handlers[frame.Type]?.(frame.Data);
  });
  socket.addEventListener('close', () => {
    document.body.dataset.live = 'off';
    setTimeout(() => connect(handlers, Math.min(delay * 2, 10000)), delay);
  });
}

// --- Formatting, as the server does it.

function size(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[unit]}`;
}

function localTimes(root = document) {
  const today = new Date().toDateString();
  for (const time of $$('time[datetime]', root)) {
    const at = new Date(time.dateTime);
    if (Number.isNaN(at.getTime())) continue;
    time.title = at.toLocaleString();
    time.textContent = time.hasAttribute('data-full') ? at.toLocaleString() : at.toDateString() === today
      ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : at.toLocaleDateString([], { month: 'short', day: 'numeric', year: 'numeric' });
  }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- The inbox.

function inbox() {
  const list = $('#list');
  const live = list.dataset.live === 'true';
  const query = list.dataset.query;
  const toolbar = $('#toolbar');
  const pickAll = $('#pick-all');
  toolbar.hidden = false;

  const rows = () => $$('li.msg', list);
  const picked = () => $$('.pick:checked', list).map((box) => box.value);
  const rowOf = (id) => rows().find((row) => row.dataset.id === id);

  function refreshToolbar() {
    const count = picked().length;
    for (const button of $$('button[data-act]', toolbar)) {
      if (button.dataset.act !== 'delete-all') button.disabled = count === 0;
    }
    pickAll.checked = count > 0 && count === rows().length;
    pickAll.indeterminate = count > 0 && count < rows().length;
    $('#empty').hidden = rows().length > 0;
  }

  function row(m) {
    const li = el('li', m.Read ? 'msg' : 'msg unread');
    li.dataset.id = m.ID;
    const subject = m.Subject.trim() === '' ? '(no subject)' : m.Subject;
    const box = el('input', 'pick');
    box.type = 'checkbox';
    box.value = m.ID;
    box.setAttribute('aria-label', `Select “${subject}”`);
    const link = el('a', 'open');
    link.href = `/view/${encodeURIComponent(m.ID)}`;
    const from = el('span', 'from');
    from.title = m.From.Address;
    const dot = el('span', 'dot');
    dot.append(el('span', 'vh', 'Unread: '));
    from.append(dot, m.From.Name || m.From.Address || '<> (null sender)');
    const to = (m.To || []).map((a) => a.Address).join(', ');
    const meta = el('span', 'meta');
    if (m.Attachments > 0) {
      const words = `${m.Attachments} attachment${m.Attachments === 1 ? '' : 's'}`;
      const att = el('span', 'att');
      att.title = words;
      att.append(el('span', 'vh', words));
      meta.append(att, ' ');
    }
    const time = el('time', '', m.Created);
    time.dateTime = m.Created;
    meta.append(el('span', 'size', size(m.Size)), ' ', time);
    link.append(from, el('span', 'to', `To: ${to}`), el('span', 'subject', subject),
      el('span', 'snippet', m.Snippet), meta);
    li.append(box, link);
    localTimes(li);
    return li;
  }

  function prepend(m) {
    if (rowOf(m.ID)) return;
    const item = row(m);
    list.prepend(item);
    // Keep what the reader is looking at in place when mail arrives above it.
    if (window.scrollY > 0) window.scrollBy(0, item.offsetHeight);
    const all = rows();
    if (all.length > 50) {
      all.at(-1).remove();
      const pager = $('.pager');
      const last = rows().at(-1);
      let older = $('a[rel=next]', pager);
      if (!older) {
        older = el('a', '', 'Older →');
        older.rel = 'next';
        pager.append(older);
      }
      older.href = `/?before=${encodeURIComponent(last.dataset.id)}`;
    }
    refreshToolbar();
  }

  let searching = null;
  async function research() {
    // A search cannot be matched here: ask the server again, at most once at a time.
    if (searching) return;
    searching = (async () => {
      const response = await api('GET', `/api/v1/search?query=${encodeURIComponent(query)}&limit=50`);
      const answer = await response.json();
      const keep = new Set(picked());
      list.replaceChildren(...answer.messages.map(row));
      for (const box of $$('.pick', list)) box.checked = keep.has(box.value);
      $('#status').textContent = `${answer.messages_count} message${answer.messages_count === 1 ? '' : 's'} match${answer.messages_count === 1 ? 'es' : ''}`;
      refreshToolbar();
    })().finally(() => { searching = null; });
  }

  function remove(id) {
    rowOf(id)?.remove();
    refreshToolbar();
  }

  function setRead(ids, read) {
    for (const id of ids) rowOf(id)?.classList.toggle('unread', !read);
  }

  toolbar.addEventListener('click', async (event) => {
    const act = event.target.closest('button')?.dataset.act;
    const ids = picked();
    try {
      if (act === 'read' || act === 'unread') {
        await api('PUT', '/api/v1/messages', { IDs: ids, Read: act === 'read' });
        setRead(ids, act === 'read');
      } else if (act === 'delete') {
        await api('DELETE', '/api/v1/messages', { IDs: ids });
        ids.forEach(remove);
      } else if (act === 'delete-all') {
        if (!window.confirm('Delete every message? This cannot be undone.')) return;
        await api('DELETE', '/api/v1/messages');
        list.replaceChildren();
        refreshToolbar();
      }
    } catch (error) {
      $('#status').textContent = `That did not work: ${error.message}`;
    }
  });
  pickAll.addEventListener('change', () => {
    for (const box of $$('.pick', list)) box.checked = pickAll.checked;
    refreshToolbar();
  });
  list.addEventListener('change', refreshToolbar);

  // Keyboard: j/k move, Enter opens (the focused link), Delete deletes.
  document.addEventListener('keydown', async (event) => {
    if (event.target.closest('input, textarea, select') || event.ctrlKey || event.metaKey || event.altKey) return;
    const all = rows();
    const at = all.findIndex((r) => r.contains(document.activeElement));
    if (event.key === 'j' || event.key === 'k') {
      const next = all[Math.max(0, Math.min(all.length - 1, at + (event.key === 'j' ? 1 : -1)))];
      $('a.open', next)?.focus();
      event.preventDefault();
    } else if ((event.key === 'Delete' || event.key === '#') && at >= 0) {
      const id = all[at].dataset.id;
      const next = all[at + 1] || all[at - 1];
      await api('DELETE', '/api/v1/messages', { IDs: [id] });
      remove(id);
      $('a.open', next)?.focus();
    }
  });

  localTimes();
  refreshToolbar();
  return {
    new: (m) => {
      if (!live) return;
      if (query) research(); else prepend(m);
    },
    update: (d) => { if ('Read' in d) setRead([d.ID], d.Read); },
    delete: (d) => remove(d.ID),
    truncate: () => { list.replaceChildren(); refreshToolbar(); },
    prune: () => location.reload(),
    stats: (d) => {
      if (query) return;
      const n = (count) => count.toLocaleString('en-US');
      $('#status').textContent = `${n(d.Total)} message${d.Total === 1 ? '' : 's'}, ${n(d.Unread)} unread`;
    },
  };
}

// --- A message.

function message() {
  const article = $('#message');
  const id = article.dataset.id;
  const unreadButton = $('#mark-unread');
  const deleteButton = $('#delete');
  unreadButton.hidden = false;
  deleteButton.hidden = false;

  async function remove() {
    await api('DELETE', '/api/v1/messages', { IDs: [id] });
    location.href = '/';
  }
  deleteButton.addEventListener('click', remove);
  unreadButton.addEventListener('click', async () => {
    await api('PUT', '/api/v1/messages', { IDs: [id], Read: false });
    unreadButton.textContent = 'Marked unread';
    unreadButton.disabled = true;
  });

  // Tabs: one part at a time; the address remembers which.
  const tabs = $$('#tabs a');
  $('#tabs').setAttribute('role', 'tablist');
  function select(name) {
    if (!tabs.some((t) => t.dataset.tab === name)) name = article.dataset.defaultTab;
    for (const tab of tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-selected', String(on));
      tab.setAttribute('aria-controls', tab.dataset.tab);
      $(`#${tab.dataset.tab}`).hidden = !on;
    }
  }
  for (const tab of tabs) {
    tab.addEventListener('click', (event) => {
      event.preventDefault();
      history.replaceState(null, '', `#${tab.dataset.tab}`);
      select(tab.dataset.tab);
    });
  }
  select(location.hash.slice(1));

  // Preview widths: phone, tablet, desktop.
  const widths = $('#widths');
  if (widths) {
    widths.hidden = false;
    widths.addEventListener('click', (event) => {
      const button = event.target.closest('button');
      if (!button) return;
      for (const b of $$('button', widths)) b.setAttribute('aria-pressed', String(b === button));
      $('#preview').style.width = button.dataset.width ? `${button.dataset.width}px` : '100%';
    });
  }

  document.addEventListener('keydown', (event) => {
    if (event.target.closest('input, textarea, select') || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === 'Delete' || event.key === '#') remove();
    else if (event.key === 'Escape' || event.key === 'u') location.href = '/';
  });

  localTimes();
  const gone = () => {
    $('#gone').hidden = false;
    unreadButton.disabled = true;
    deleteButton.disabled = true;
  };
  return {
    delete: (d) => { if (d.ID === id) gone(); },
    truncate: gone,
  };
}

// --- Every page.

document.addEventListener('keydown', (event) => {
  if (event.key === '/' && !event.target.closest('input, textarea, select')) {
    event.preventDefault();
    $('#q').focus();
  }
});

const handlers = page === 'inbox' ? inbox() : page === 'message' ? message() : {};
showCounts(Number($('#total').textContent), Number(document.body.dataset.unread));
connect(handlers);
