// The live connection: one websocket for the whole page. It reconnects with
// exponential back-off (0.5 s doubling to 30 s, with jitter) and resumes
// with "since" set to the last sequence number seen, so that nothing is
// missed; when the server cannot replay that far it sends "resync" and the
// views reload over HTTP.

import { bearerToken } from './api.js';

export class Live {
  constructor(topics) {
    this.topics = topics;
    this.lastSeq = 0;
    this.handlers = new Map();
    this.status = 'connecting';
    this.attempt = 0;
    this.closed = false;
    this.presence = null;
    this.connected = false;
    this.connect();
  }

  on(type, f) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(f);
    return () => this.handlers.get(type).delete(f);
  }

  emit(type, data, frame) {
    this.handlers.get(type)?.forEach((f) => {
      try { f(data, frame); } catch (e) { console.error('live handler', type, e); }
    });
  }

  setStatus(s) {
    this.status = s;
    this.emit('status', s);
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const tok = bearerToken();
    return `${proto}//${location.host}/ws${tok ? '?token=' + encodeURIComponent(tok) : ''}`;
  }

  connect() {
    if (this.closed) return;
    this.setStatus(this.attempt ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      const msg = { subscribe: this.topics };
      const resumed = this.connected && this.lastSeq > 0;
      if (resumed) msg.since = this.lastSeq;
      ws.send(JSON.stringify(msg));
      if (this.presence) ws.send(JSON.stringify({ presence: this.presence }));
      this.setStatus('live');
      // A first connection, or one that cannot resume, reloads its views.
      if (this.connected && !resumed) this.emit('resync', { reason: 'reconnected' });
      this.connected = true;
    };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (f.seq > this.lastSeq) this.lastSeq = f.seq;
      this.emit(f.type, f.data, f);
      this.emit('*', f.data, f);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  retry() {
    if (this.closed) return;
    this.setStatus('reconnecting');
    const base = Math.min(30000, 500 * 2 ** this.attempt);
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  // setPresence tells the others what this user does on a ticket; it is
  // sent again after a reconnection.
  setPresence(ticketID, state) {
    this.presence = state === 'left' ? null : { ticket_id: ticketID, state };
    this.send({ presence: { ticket_id: ticketID, state } });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
  }
}
