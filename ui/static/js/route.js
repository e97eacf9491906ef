// Hash routes: #/page/id?key=value. The hash keeps the server out of
// routing: one page, one address.

export function parseHash(hash = location.hash) {
  const h = hash.replace(/^#\/?/, '');
  const [path, query = ''] = h.split('?');
  const [page = '', id = ''] = path.split('/');
  return { page, id, params: new URLSearchParams(query) };
}

export function navigate(path, params) {
  let h = '#/' + path;
  if (params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
    const s = u.toString();
    if (s) h += '?' + s;
  }
  if (location.hash !== h) location.hash = h;
}
