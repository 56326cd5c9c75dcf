// destinations — where a project's alerts go: add, edit, delete, test-send.
import {h, mount, field, notice, fmtTime} from '../dom.js';
import {get, post, patch, del, P} from '../api.js';
import {canEdit} from '../session.js';

const TYPES = {
  generic_webhook: ['Webhook', ['webhook_url', 'secret']],
  slack_webhook: ['Slack', ['webhook_url']],
  discord_webhook: ['Discord', ['webhook_url']],
  teams_webhook: ['Microsoft Teams', ['webhook_url']],
  email: ['Email', ['smtp_url', 'username', 'password', 'from', 'to']],
  internal_logger: ['Server log', []],
};
const LABELS = {webhook_url: 'Webhook URL', secret: 'Signing secret (optional)', smtp_url: 'SMTP URL (smtp:// or smtps://)',
  username: 'SMTP user', password: 'SMTP password', from: 'From', to: 'To (comma-separated)'};

function form(pid, dest, done) {
  const type = h('select', {name: 'type', disabled: !!dest}, Object.entries(TYPES).map(([k, [l]]) => h('option', {value: k, selected: dest && dest.type === k}, l)));
  const name = h('input', {type: 'text', name: 'name', required: true, value: dest ? dest.name : ''});
  const enabled = h('input', {type: 'checkbox', name: 'enabled', checked: dest ? dest.enabled : true});
  const fields = h('div');
  const inputs = {};
  const draw = () => {
    mount(fields);
    for (const f of TYPES[type.value][1]) {
      let v = dest ? dest[f] : '';
      if (Array.isArray(v)) v = v.join(', ');
      inputs[f] = h('input', {type: f === 'password' || f === 'secret' ? 'password' : 'text', name: f, value: v || '', autocomplete: 'off'});
      fields.append(field(LABELS[f], inputs[f]));
    }
  };
  type.addEventListener('change', draw);
  draw();
  const msg = h('div', {'aria-live': 'polite'});
  return h('form', {class: 'card dest-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {name: name.value, enabled: enabled.checked};
    if (!dest) body.type = type.value;
    for (const f of TYPES[type.value][1]) {
      const v = inputs[f].value.trim();
      if (!v && (f === 'secret' || f === 'username' || f === 'password')) continue;
      body[f] = f === 'to' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
    }
    try {
      if (dest) await patch(`${P(pid)}/alert_notification_destinations/${dest.id}`, body);
      else await post(`${P(pid)}/alert_notification_destinations`, body);
      done();
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  }}, h('h2', {}, dest ? `Edit ${dest.name}` : 'Add a destination'), field('Type', type), field('Name', name),
  fields, h('label', {class: 'check'}, enabled, ' Enabled'), msg,
  h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'btn primary'}, dest ? 'Save' : 'Add destination'),
    dest ? h('button', {type: 'button', class: 'btn', onclick: done}, 'Cancel') : null));
}

export async function destinationsPage({main, params}) {
  const [pid] = params;
  const editable = canEdit();
  const render = async (editing = null) => {
    const dests = (await get(`${P(pid)}/alert_notification_destinations`)).data;
    const rows = dests.map((d) => {
      const result = h('td', {class: 'test-result', 'aria-live': 'polite'});
      return h('tr', {dataset: {id: d.id}},
        h('td', {}, d.name), h('td', {}, (TYPES[d.type] || [d.type])[0]), h('td', {}, d.enabled ? 'enabled' : 'disabled'),
        h('td', {class: 'muted'}, d.webhook_url || (d.to ? [].concat(d.to).join(', ') : '') || ''),
        h('td', {}, fmtTime(d.created_at)),
        h('td', {class: 'actions'}, editable ? [
          h('button', {type: 'button', class: 'btn small test', onclick: async () => {
            mount(result, 'sending…');
            try {
              const r = await post(`${P(pid)}/alert_notification_destinations/${d.id}/test`);
              mount(result, h('span', {class: r.ok ? 'ok' : 'bad'}, r.ok ? 'sent' : 'failed',
                r.status_code !== null && r.status_code !== undefined ? ` (${r.status_code})` : '', ` in ${r.duration_ms} ms`, r.error ? `: ${r.error}` : ''));
            } catch (e) { mount(result, h('span', {class: 'bad'}, e.message)); }
          }}, 'Test'),
          h('button', {type: 'button', class: 'btn small', onclick: () => render(d)}, 'Edit'),
          h('button', {type: 'button', class: 'btn small danger', onclick: async () => {
            if (!confirm(`Delete destination ${d.name}?`)) return;
            await del(`${P(pid)}/alert_notification_destinations/${d.id}`);
            render();
          }}, 'Delete')] : null),
        result);
    });
    mount(main, h('h1', {}, 'Destinations'),
      dests.length ? h('div', {class: 'scroll'}, h('table', {class: 'grid', id: 'destinations'},
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'State', 'Target', 'Created'].map((t) => h('th', {scope: 'col'}, t)),
          h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')), h('th', {scope: 'col'}, 'Test result'))),
        h('tbody', {}, rows))) : h('p', {class: 'muted'}, 'No destinations: alerts are recorded but sent nowhere.'),
      editable ? form(pid, editing, () => render()) : null);
  };
  await render();
}
