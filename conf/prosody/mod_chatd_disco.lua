-- The server's service list (disco#items) for a member: the rooms service of the member's realm,
-- and only it. Conversations and Gajim look for a MUC service only there; Prosody lists direct
-- subdomains (rooms.en.HOST is not one) and knows nothing of realms. So it asks chatd: each
-- realm's people domain answers with the services that account may see (nothing for non-members).
-- chatd's own domains are hidden from the plain list (disco_hidden on each component).
local st = require "util.stanza";
local async = require "util.async";
local new_id = require "util.id".short;

local realm_domains = module:get_option_array("chatd_realm_domains", {});
local xmlns = "urn:chatd:services:0";

module:hook("host-disco-items", function (event)
	local origin, reply = event.origin, event.reply;
	if origin.type ~= "c2s" or not origin.username then return; end
	local account = origin.username .. "@" .. module.host;
	for _, domain in ipairs(realm_domains) do
		local ask = st.iq({ type = "get", from = module.host, to = domain, id = new_id() })
			:tag("query", { xmlns = xmlns, account = account });
		local answer = async.wait_for(module:send_iq(ask, nil, 5));
		local query = answer and answer.stanza:get_child("query", xmlns);
		if query then
			for item in query:childtags("item") do
				reply:tag("item", { jid = item.attr.jid, name = item.attr.name }):up();
			end
		end
	end
end, 10);
