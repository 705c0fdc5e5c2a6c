-- Push notifications (XEP-0357, mod_cloud_notify) toward the listed push app servers only.
-- Loaded on the members' VirtualHost next to cloud_notify; chatd renders the list from its
-- config ([push] app_servers). What it holds:
--   * a member may enable push only toward a listed app server (any other address: not-allowed);
--   * a notification leaves only with the summary that reveals nothing (a message count and the
--     fixed marker; never a sender or a text): one that carries more is not sent;
--   * a member's own stanzas never reach an app server (only the server publishes to it);
--   * toward remote domains (server-to-server, production only), only the server's own publishes
--     to a listed app server leave, and only listed app servers are accepted as peers.
local st = require "util.stanza";
local jid = require "util.jid";
local jid_host = jid.host;

local app_servers = module:get_option_set("chatd_push_app_servers", {});
local refused_text = module:get_option_string("chatd_push_refused_text", "Push notifications toward this address are not allowed");
local marker = module:get_option_string("push_notification_important_body");

local function listed(address)
	return address ~= nil and app_servers:contains(jid_host(address) or "");
end

module:hook("cloud_notify/registration", function(event)
	-- the app server itself (a domain), never an account or a resource on it
	if app_servers:contains(jid.prep(event.push_info.jid) or "") then return; end
	-- the domain only (never an account): the operator reads here which app server an app asks for
	module:log("info", "Refused to enable push toward %s: not a listed app server", jid_host(event.push_info.jid) or "?");
	event.origin.send(st.error_reply(event.stanza, "cancel", "not-allowed", refused_text));
	return false;
end);

local summary_fields = { ["message-count"] = true; ["last-message-body"] = true };

module:hook("cloud_notify/push", function(event)
	if not listed(event.push_info.jid) then
		event.reason = "the app server is not listed";
		return true;
	end
	for name, value in pairs(event.push_summary) do
		if not summary_fields[name] or (name == "last-message-body" and value ~= marker) then
			module:log("error", "A push notification would have carried %s: not sent (check push_notification_with_*)", name);
			event.reason = "the summary reveals more than that something arrived";
			return true;
		end
	end
end, 1000);

-- A member's own stanzas toward an app server (local component or remote): refused.
local function from_member(event)
	local stanza = event.stanza;
	if not listed(stanza.attr.to) then return; end
	if stanza.name ~= "presence" and stanza.attr.type ~= "error" and stanza.attr.type ~= "result" then
		event.origin.send(st.error_reply(stanza, "cancel", "not-allowed", refused_text));
	end
	return true;
end
for _, kind in ipairs({ "message"; "iq"; "presence" }) do
	for _, to in ipairs({ "bare"; "full"; "host" }) do
		module:hook("pre-" .. kind .. "/" .. to, from_member, 1000);
	end
end

-- Toward remote domains: only the server's own publishes to a listed app server.
module:hook("route/remote", function(event)
	local stanza = event.stanza;
	if app_servers:contains(event.to_host) and stanza.name == "iq" and stanza.attr.from == module.host then
		return; -- mod_s2s routes it
	end
	if stanza.attr.type ~= "error" and stanza.attr.type ~= "result" and stanza.name ~= "presence" then
		module:send(st.error_reply(stanza, "cancel", "not-allowed", refused_text));
	end
	return true;
end, 1000);

-- Server-to-server peers: listed app servers only (incoming and outgoing streams).
module:hook("s2s-authenticated", function(event)
	if app_servers:contains(event.host) then return; end
	module:log("warn", "Refused a server-to-server stream with %s: not a listed push app server", event.host);
	event.session:close({ condition = "policy-violation"; text = "This server talks only to its listed push app servers" });
	return false;
end, 1000);
