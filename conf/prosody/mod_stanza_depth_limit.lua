-- Refuses a client's stanza nested deeper than stanza_depth_limit elements, before any other module
-- sees it. Without it, a message with a body nested a few hundred levels deep overflows the Lua
-- stack in mod_mam's archiving: the stanza is never routed and its sender is told nothing.
-- chatd refuses depths above its own limit (24) in the member's language; this bound sits above it.
local st = require "util.stanza";

local limit = module:get_option_number("stanza_depth_limit", 100);
local text = "This message is nested too deeply to be delivered. / Ce message est trop imbriqué pour être livré.";

local function too_deep(stanza)
	local pending, depths = { stanza }, { 1 };
	while #pending > 0 do
		local element, depth = table.remove(pending), table.remove(depths);
		if depth > limit then
			return true;
		end
		for _, child in ipairs(element.tags) do
			pending[#pending + 1], depths[#depths + 1] = child, depth + 1;
		end
	end
	return false;
end

module:hook("pre-stanza", function (event)
	local origin, stanza = event.origin, event.stanza;
	if not too_deep(stanza) then
		return nil;
	end
	module:log("warn", "refused a <%s> nested deeper than %d elements", stanza.name, limit);
	if stanza.attr.type ~= "error" and stanza.attr.type ~= "result" then
		origin.send(st.error_reply(stanza, "modify", "policy-violation", text));
	end
	event.reason = "nested too deeply";
	return true;
end, 1000);
