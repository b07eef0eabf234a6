/*
 * The console's Eta templates, kept as strings in a module so they ship inside dist/ with the code
 * (no file to copy at build time, nothing read from disk at run time). Eta escapes every `<%= %>`;
 * `<%~ %>` (raw) is used only for other templates' output.
 * Each page sets `it.title`; the layout adds the header, navigation, flash message and CSRF field.
 */

const layout = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title><%= it.title %> | tokenledger admin</title>
<link rel="stylesheet" href="/admin/static/admin.css">
<script src="/admin/static/admin.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/admin/">tokenledger administration</a>
<% if (it.session) { %>
  <nav aria-label="Main">
    <a href="/admin/users/">Users</a>
    <a href="/admin/tokens/">Tokens</a>
    <a href="/admin/history/">History</a>
  </nav>
  <form method="post" action="/admin/logout/" class="signout">
    <input type="hidden" name="csrfmiddlewaretoken" value="<%= it.csrf %>">
    <span>Signed in as <strong id="signed-in-as"><%= it.session.username %></strong></span>
    <button type="submit">Sign out</button>
  </form>
<% } %>
</header>
<main id="content">
<% if (it.breadcrumbs && it.breadcrumbs.length) { %>
<nav aria-label="Breadcrumbs" class="crumbs"><a href="/admin/">Home</a><% for (const c of it.breadcrumbs) { %> › <% if (c.href) { %><a href="<%= c.href %>"><%= c.label %></a><% } else { %><span><%= c.label %></span><% } %><% } %></nav>
<% } %>
<% if (it.flash) { %><p class="flash <%= it.flash.level %>" role="status"><%= it.flash.message %></p><% } %>
<%~ it.body %>
</main>
</body>
</html>
`;

const csrf = `<input type="hidden" name="csrfmiddlewaretoken" value="<%= it.csrf %>">`;

const errors = `<% if (it.errors && it.errors.length) { %><ul class="errors" role="alert"><% for (const e of it.errors) { %><li><%= e %></li><% } %></ul><% } %>`;

const login = `<% layout('@layout') %>
<h1>Sign in</h1>
<%~ include('@errors', it) %>
<form method="post" action="/admin/login/" class="card narrow">
  <%~ include('@csrf', it) %>
  <input type="hidden" name="next" value="<%= it.next %>">
  <p><label for="id_username">Username</label>
  <input id="id_username" name="username" autocomplete="username" required autofocus value="<%= it.username %>"></p>
  <p><label for="id_password">Password</label>
  <input id="id_password" name="password" type="password" autocomplete="current-password" required></p>
  <p><button type="submit">Sign in</button></p>
</form>
`;

const index = `<% layout('@layout') %>
<h1>Site administration</h1>
<div class="tiles">
  <section class="card"><h2><a href="/admin/users/">Users</a></h2>
    <% if (it.counts) { %><p><%= it.counts.users.total %> users, <%= it.counts.users.active %> active, <%= it.counts.users.staff %> staff</p><% } %>
    <p><a class="button" href="/admin/users/add/">Add user</a></p></section>
  <section class="card"><h2><a href="/admin/tokens/">Tokens</a></h2>
    <% if (it.counts) { %><p><%= it.counts.tokens.live %> live, <%= it.counts.tokens.grace %> in grace, <%= it.counts.tokens.expiring %> expiring within 7 days</p><% } %>
    <p><a class="button" href="/admin/tokens/add/">Add token</a></p></section>
  <section class="card"><h2><a href="/admin/history/">History</a></h2>
    <p>Every change is an event in the log.</p>
    <p><a href="/admin/history/verify/">Verify the log</a> · <a href="/admin/history/key/">Was this key valid at…</a></p></section>
</div>
`;

const userAdd = `<% layout('@layout') %>
<h1>Add user</h1>
<p>First, enter a username and password. Then, you'll be able to edit more user options.</p>
<%~ include('@errors', it) %>
<form method="post" action="/admin/users/add/" class="card narrow">
  <%~ include('@csrf', it) %>
  <p><label for="id_username">Username</label>
  <input id="id_username" name="username" required maxlength="150" autocomplete="off" value="<%= it.username %>" aria-describedby="username-help">
  <small id="username-help">150 characters or fewer. Letters, digits and @/./+/-/_ only.</small></p>
  <fieldset><legend>Password-based authentication</legend>
    <label><input type="radio" name="usable_password" value="true"<% if (it.usable !== false) { %> checked<% } %>> Enabled</label>
    <label><input type="radio" name="usable_password" value="false"<% if (it.usable === false) { %> checked<% } %>> Disabled (tokens only)</label>
  </fieldset>
  <p><label for="id_password1">Password</label>
  <input id="id_password1" name="password1" type="password" autocomplete="new-password"></p>
  <p><label for="id_password2">Password confirmation</label>
  <input id="id_password2" name="password2" type="password" autocomplete="new-password" aria-describedby="password2-help">
  <small id="password2-help">Enter the same password as before, for verification.</small></p>
  <p><button type="submit">Save</button></p>
</form>
`;

const tokenRows = `<table>
<caption class="visually-hidden">Tokens</caption>
<thead><tr><% if (it.showUser) { %><th scope="col">User</th><% } %><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Key prefix</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Scopes</th><th scope="col">Description</th><th scope="col">Actions</th></tr></thead>
<tbody>
<% for (const t of it.tokens) { %>
<tr>
  <% if (it.showUser) { %><td><a href="/admin/users/<%= encodeURIComponent(t.username) %>/"><%= t.username %></a></td><% } %>
  <td><%= t.name %></td><td><%= t.kind %></td><td><code><%= t.keyPrefix %>…</code></td><td><%= t.status %></td>
  <td><%= it.when(t.createdAt) %></td><td><%= t.expiresAt ? it.when(t.expiresAt) : 'never' %></td><td><%= (t.scopes || []).join(' ') || 'all' %></td>
  <td class="free"><%= t.description || '' %></td>
  <td class="actions"><% if (t.status !== 'revoked' && t.status !== 'expired') { %><a href="/admin/users/<%= encodeURIComponent(t.username) %>/tokens/<%= encodeURIComponent(t.name) %>/rotate/">Rotate</a>
  <a href="/admin/users/<%= encodeURIComponent(t.username) %>/tokens/<%= encodeURIComponent(t.name) %>/revoke/">Revoke</a><% } %></td>
</tr>
<% } %>
<% if (!it.tokens.length) { %><tr><td colspan="<%= it.showUser ? 10 : 9 %>">No tokens.</td></tr><% } %>
</tbody>
</table>`;

const events = `<table class="events">
<caption class="visually-hidden">Events</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">Token</th><th scope="col">Actor</th><th scope="col">Channel</th><th scope="col">Source</th><th scope="col">Details</th></tr></thead>
<tbody>
<% for (const e of it.events) { %>
<tr class="event" data-type="<%= e.type %>">
  <td><%= e.position %></td><td><%= it.when(e.metadata.at) %></td><td><%= e.type %></td>
  <td><% if (e.user) { %><a href="/admin/users/<%= encodeURIComponent(e.user) %>/"><%= e.user %></a><% } %></td>
  <td><%= e.token || '' %></td><td class="actor"><%= e.metadata.actor %></td><td class="channel"><%= e.metadata.channel %></td><td><%= e.metadata.source %></td>
  <td><details><summary>data and metadata</summary><pre><%= it.json(e) %></pre></details></td>
</tr>
<% } %>
<% if (!it.events.length) { %><tr><td colspan="9">No events.</td></tr><% } %>
</tbody>
</table>`;

const user = `<% layout('@layout') %>
<h1>User <span class="name"><%= it.user.username %></span></h1>
<%~ include('@errors', it) %>
<section class="card">
<h2>Account</h2>
<dl class="facts">
  <dt>Status</dt><dd><%= it.user.active ? 'active' : 'inactive' %></dd>
  <dt>Password</dt><dd><%= it.user.hasPassword ? 'set' : 'no usable password' %> · <a href="/admin/users/<%= encodeURIComponent(it.user.username) %>/password/"><%= it.user.hasPassword ? 'Reset password' : 'Set password' %></a></dd>
  <dt>Created</dt><dd><%= it.user.createdAt %></dd>
</dl>
<form method="post" action="/admin/users/<%= encodeURIComponent(it.user.username) %>/" class="switches">
  <%~ include('@csrf', it) %>
  <fieldset><legend>Permissions</legend>
  <p><label><input type="checkbox" name="is_active" value="on"<% if (it.user.active) { %> checked<% } %>> Active</label> <small>Unselect this instead of deleting accounts.</small></p>
  <p><label><input type="checkbox" name="is_staff" value="on"<% if (it.user.isStaff) { %> checked<% } %>> Staff status</label> <small>Designates whether the user can sign in to this admin console and use the staff API.</small></p>
  <p><label><input type="checkbox" name="is_superuser" value="on"<% if (it.user.isSuperuser) { %> checked<% } %><% if (!it.session.isSuperuser) { %> disabled<% } %>> Superuser status</label> <small><%= it.session.isSuperuser ? 'Has every permission.' : 'Only a superuser may change this.' %></small></p>
  </fieldset>
  <p><button type="submit">Save</button></p>
</form>
<p><a class="button danger" href="/admin/users/<%= encodeURIComponent(it.user.username) %>/delete/">Delete user</a></p>
</section>
<section class="card">
<h2>Tokens</h2>
<p><a class="button" href="/admin/tokens/add/?user=<%= encodeURIComponent(it.user.username) %>">Add token</a>
<% if (it.tokens.length) { %> <a class="button danger" href="/admin/users/<%= encodeURIComponent(it.user.username) %>/revoke-all/">Revoke all tokens</a><% } %></p>
<%~ include('@tokenRows', { tokens: it.tokens, showUser: false, when: it.when }) %>
</section>
<section class="card">
<h2>History</h2>
<% if (it.moreEvents) { %><p>The <%= it.events.length %> most recent events; <a href="/admin/history/?user=<%= encodeURIComponent(it.user.username) %>">all of them</a>.</p><% } %>
<%~ include('@events', { events: it.events, json: it.json, when: it.when }) %>
</section>
`;

const password = `<% layout('@layout') %>
<h1><%= it.hasPassword ? 'Change password' : 'Set password' %>: <span class="name"><%= it.username %></span></h1>
<%~ include('@errors', it) %>
<form method="post" action="/admin/users/<%= encodeURIComponent(it.username) %>/password/" class="card narrow">
  <%~ include('@csrf', it) %>
  <p><label for="id_password1">Password</label>
  <input id="id_password1" name="password1" type="password" autocomplete="new-password"></p>
  <p><label for="id_password2">Password confirmation</label>
  <input id="id_password2" name="password2" type="password" autocomplete="new-password" aria-describedby="password2-help">
  <small id="password2-help">Enter the same password as before, for verification.</small></p>
  <p><button type="submit" name="action" value="set"><%= it.hasPassword ? 'Change password' : 'Set password' %></button>
  <% if (it.hasPassword) { %><button type="submit" name="action" value="disable" class="secondary">Disable password-based authentication</button><% } %></p>
</form>
`;

const tokenAdd = `<% layout('@layout') %>
<h1>Add token</h1>
<%~ include('@errors', it) %>
<% if (!it.user) { %>
<form method="get" action="/admin/tokens/add/" class="card narrow" role="search">
  <p><label for="id_q">Find the user</label>
  <input id="id_q" name="q" type="search" value="<%= it.q %>" autocomplete="off" aria-describedby="q-help">
  <small id="q-help">Type the beginning of a username.</small></p>
  <p><button type="submit">Search</button></p>
</form>
<% if (it.q) { %>
<section class="card narrow"><h2>Users matching “<%= it.q %>”</h2>
<% if (it.matches.length) { %><ul class="picks"><% for (const u of it.matches) { %><li><a href="/admin/tokens/add/?user=<%= encodeURIComponent(u.username) %>"><%= u.username %></a><% if (!u.active) { %> (inactive)<% } %></li><% } %></ul>
<% } else { %><p>No user matches.</p><% } %>
</section>
<% } %>
<% } else { %>
<form method="post" action="/admin/tokens/add/" class="card narrow">
  <%~ include('@csrf', it) %>
  <p><label for="id_user">User</label>
  <input id="id_user" name="user" value="<%= it.user %>" readonly aria-describedby="user-help"> <small id="user-help"><a href="/admin/tokens/add/">Choose another user</a></small></p>
  <p><label for="id_name">Name</label>
  <input id="id_name" name="name" required maxlength="64" value="<%= it.name %>" aria-describedby="name-help">
  <small id="name-help">Letters, digits, ".", "_" or "-"; unique among the user's tokens.</small></p>
  <p><label for="id_expires">Expires in</label>
  <input id="id_expires" name="expires_in" value="<%= it.expiresIn %>" aria-describedby="expires-help">
  <small id="expires-help">A duration such as 90d or 12h; 0 or empty: never.</small></p>
  <p><label for="id_scopes">Scopes</label>
  <input id="id_scopes" name="scopes" value="<%= it.scopes %>" aria-describedby="scopes-help">
  <small id="scopes-help">Separated by spaces (for example users:read tokens:write); empty: all.</small></p>
  <fieldset><legend>Key format</legend>
    <label><input type="radio" name="format" value="tl"<% if (it.format !== 'drf') { %> checked<% } %>> tokenledger (prefixed, checksummed)</label>
    <label><input type="radio" name="format" value="drf"<% if (it.format === 'drf') { %> checked<% } %>> DRF (40 hex characters)</label>
  </fieldset>
  <p><label for="id_description">Description</label>
  <textarea id="id_description" name="description" rows="2"><%= it.description %></textarea></p>
  <p><button type="submit" id="create-token">Create token</button></p>
</form>
<% } %>
`;

const keyOnce = `<% layout('@layout') %>
<h1><%= it.heading %></h1>
<section class="card key-once">
<p class="warning" role="alert"><strong>Copy this key now: it will not be shown again.</strong> tokenledger keeps only its digest.</p>
<p><label for="new-key">Key of token “<%= it.token.name %>” for <%= it.token.username %></label></p>
<p class="key"><output id="new-key" for="copy-key"><%= it.key %></output>
<button type="button" id="copy-key" data-copy="new-key" hidden>Copy</button></p>
<% if (it.graceUntil) { %><p>The previous key keeps working until <%= it.graceUntil %>.</p><% } %>
<p><a class="button" href="/admin/users/<%= encodeURIComponent(it.token.username) %>/">Done</a></p>
</section>
`;

const confirm = `<% layout('@layout') %>
<h1><%= it.title %></h1>
<%~ include('@errors', it) %>
<form method="post" action="<%= it.action %>" class="card narrow">
  <%~ include('@csrf', it) %>
  <p><%= it.question %></p>
  <% for (const f of it.fields) { %>
  <p><label for="id_<%= f.name %>"><%= f.label %></label>
  <input id="id_<%= f.name %>" name="<%= f.name %>" value="<%= f.value %>"<% if (f.help) { %> aria-describedby="<%= f.name %>-help"<% } %>>
  <% if (f.help) { %><small id="<%= f.name %>-help"><%= f.help %></small><% } %></p>
  <% } %>
  <input type="hidden" name="post" value="yes">
  <p><button type="submit" class="danger"><%= it.submit %></button> <a href="<%= it.cancel %>">No, take me back</a></p>
</form>
`;

const history = `<% layout('@layout') %>
<h1>History</h1>
<%~ include('@errors', it) %>
<p><a href="/admin/history/verify/">Verify the log</a> · <a href="/admin/history/key/">Was this key valid at…</a></p>
<form method="get" action="/admin/history/" class="filters">
  <p><label for="f_user">User</label> <input id="f_user" name="user" value="<%= it.filters.user %>"></p>
  <p><label for="f_token">Token</label> <input id="f_token" name="token" value="<%= it.filters.token %>"></p>
  <p><label for="f_type">Event type</label> <select id="f_type" name="type"><option value="">any</option><% for (const t of it.types) { %><option<% if (t === it.filters.type) { %> selected<% } %>><%= t %></option><% } %></select></p>
  <p><label for="f_actor">Actor</label> <input id="f_actor" name="actor" value="<%= it.filters.actor %>"></p>
  <p><label for="f_channel">Channel</label> <select id="f_channel" name="channel"><option value="">any</option><% for (const c of ['cli', 'http', 'admin', 'import']) { %><option<% if (c === it.filters.channel) { %> selected<% } %>><%= c %></option><% } %></select></p>
  <p><label for="f_since">Since</label> <input id="f_since" name="since" value="<%= it.filters.since %>" placeholder="2026-01-31T12:00:00Z or 7d"></p>
  <p><label for="f_until">Until</label> <input id="f_until" name="until" value="<%= it.filters.until %>"></p>
  <p><button type="submit">Filter</button></p>
</form>
<%~ include('@events', { events: it.events, json: it.json, when: it.when }) %>
<% if (it.scannedTo) { %><p>No more matches among the most recent events searched; older ones start before position <%= it.scannedTo %>.</p><% } %>
<% if (it.next) { %><p><a href="<%= it.next %>" rel="next">Older events</a></p><% } %>
`;

const verify = `<% layout('@layout') %>
<h1>Verify the log</h1>
<form method="post" action="/admin/history/verify/" class="card narrow">
  <%~ include('@csrf', it) %>
  <p>Reads the whole log and checks every event's hash chain, as <code>tokenledger audit verify</code> does.</p>
  <p><button type="submit">Verify now</button></p>
</form>
<% if (it.result) { %>
<section class="card" id="verify-result">
  <h2><%= it.result.ok ? 'The log is intact' : 'The log is damaged' %></h2>
  <dl class="facts"><dt>Events checked</dt><dd><%= it.result.events %></dd><dt>Head</dt><dd><code id="head-hash"><%= it.result.head %></code></dd></dl>
  <% if (it.result.damage.length) { %><ul class="errors"><% for (const d of it.result.damage) { %><li><%= d %></li><% } %></ul><% } %>
</section>
<% } %>
`;

const keyCheck = `<% layout('@layout') %>
<h1>Was this key valid at…</h1>
<%~ include('@errors', it) %>
<form method="post" action="/admin/history/key/" class="card narrow" autocomplete="off">
  <%~ include('@csrf', it) %>
  <p><label for="id_key">Key</label>
  <input id="id_key" name="key" type="password" autocomplete="off" required aria-describedby="key-help">
  <small id="key-help">Sent in the request body only; never stored or shown.</small></p>
  <p><label for="id_at">At</label>
  <input id="id_at" name="at" value="<%= it.at %>" aria-describedby="at-help">
  <small id="at-help">An ISO time such as 2026-01-31T12:00:00Z, or a duration ago such as 2h; empty: now.</small></p>
  <p><button type="submit">Check</button></p>
</form>
<% if (it.verdict) { %>
<section class="card" id="verdict"><h2><%= it.verdict.outcome === 'valid' ? 'Valid' : 'Not valid' %> at <%= it.verdict.at %></h2><p><%= it.verdict.reason %></p></section>
<% } %>
`;

const error = `<% layout('@layout') %>
<h1><%= it.title %></h1>
<p><%= it.message %></p>
<p><a href="/admin/">Back to the console</a></p>
`;

const pager = `<nav class="pager" aria-label="Pages"><% if (it.previous) { %><a href="<%= it.previous %>" rel="prev">Previous page</a><% } %><% if (it.next) { %><a href="<%= it.next %>" rel="next">Next page</a><% } %></nav>`;

const users = `<% layout('@layout') %>
<h1>Users</h1>
<p><a class="button" href="/admin/users/add/">Add user</a></p>
<%~ include('@errors', it) %>
<form method="get" action="/admin/users/" class="filters" role="search">
  <p><label for="f_q">Search</label> <input id="f_q" name="q" type="search" value="<%= it.filters.q %>"></p>
  <p><label for="f_active">Active</label> <select id="f_active" name="active"><% for (const [v, l] of [['', 'all'], ['yes', 'yes'], ['no', 'no']]) { %><option value="<%= v %>"<% if (v === it.filters.active) { %> selected<% } %>><%= l %></option><% } %></select></p>
  <p><label for="f_staff">Staff</label> <select id="f_staff" name="staff"><% for (const [v, l] of [['', 'all'], ['yes', 'yes'], ['no', 'no']]) { %><option value="<%= v %>"<% if (v === it.filters.staff) { %> selected<% } %>><%= l %></option><% } %></select></p>
  <p><button type="submit">Filter</button></p>
</form>
<table>
<caption class="visually-hidden">Users</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Active</th><th scope="col">Staff</th><th scope="col">Superuser</th><th scope="col">Password</th><th scope="col">Tokens</th><th scope="col">Created</th></tr></thead>
<tbody>
<% for (const u of it.users) { %>
<tr><td><a href="/admin/users/<%= encodeURIComponent(u.username) %>/"><%= u.username %></a></td><td><%= u.active ? 'yes' : 'no' %></td><td><%= u.isStaff ? 'yes' : 'no' %></td><td><%= u.isSuperuser ? 'yes' : 'no' %></td><td><%= u.hasPassword ? 'set' : 'none' %></td><td><%= u.tokens %></td><td><%= it.when(u.createdAt) %></td></tr>
<% } %>
<% if (!it.users.length) { %><tr><td colspan="7">No users match.</td></tr><% } %>
</tbody>
</table>
<%~ include('@pager', it) %>
`;

const tokens = `<% layout('@layout') %>
<h1>Tokens</h1>
<p><a class="button" href="/admin/tokens/add/">Add token</a></p>
<%~ include('@errors', it) %>
<form method="get" action="/admin/tokens/" class="filters" role="search">
  <p><label for="f_user">User</label> <input id="f_user" name="user" value="<%= it.filters.user %>"></p>
  <p><label for="f_name">Name</label> <input id="f_name" name="name" value="<%= it.filters.name %>"></p>
  <p><label for="f_prefix">Key prefix</label> <input id="f_prefix" name="prefix" value="<%= it.filters.prefix %>"></p>
  <p><label for="f_status">Status</label> <select id="f_status" name="status"><% for (const s of it.statuses) { %><option<% if (s === it.filters.status) { %> selected<% } %>><%= s %></option><% } %></select></p>
  <p><label for="f_scope">Scope</label> <input id="f_scope" name="scope" value="<%= it.filters.scope %>"></p>
  <p><button type="submit">Filter</button></p>
</form>
<%~ include('@tokenRows', { tokens: it.tokens, showUser: true, when: it.when }) %>
<%~ include('@pager', it) %>
`;

export const TEMPLATES: Record<string, string> = {
  '@layout': layout,
  '@csrf': csrf,
  '@errors': errors,
  '@tokenRows': tokenRows,
  '@events': events,
  '@login': login,
  '@index': index,
  '@userAdd': userAdd,
  '@user': user,
  '@password': password,
  '@tokenAdd': tokenAdd,
  '@keyOnce': keyOnce,
  '@confirm': confirm,
  '@history': history,
  '@verify': verify,
  '@keyCheck': keyCheck,
  '@error': error,
  '@pager': pager,
  '@users': users,
  '@tokens': tokens,
};
