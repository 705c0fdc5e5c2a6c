-- Bounds what Prosody buffers for one client: a client that stops reading (or reads slower than its
-- conversations arrive) is disconnected once more than c2s_send_buffer_limit bytes wait for it, instead
-- of growing Prosody's memory without end. What it missed stays in the archives (MAM) for when it returns.
-- Prosody 0.12's epoll backend has no such limit of its own (server_select's max_send_buffer_size is gone).
local limit = module:get_option_number("c2s_send_buffer_limit", 1024 * 1024);

local function buffered(conn)
	local buffer = conn.writebuffer;
	if type(buffer) == "string" then
		return #buffer;
	elseif type(buffer) ~= "table" then
		return 0;
	end
	local total = 0;
	for i = 1, #buffer do
		total = total + #buffer[i];
	end
	return total;
end

module:hook("resource-bind", function (event)
	local session = event.session;
	local send = session.send;
	function session.send(stanza)
		local conn = session.conn;
		-- while mod_csi_simple holds a quiet client's writes, the buffer is its queue: not counted
		if conn and not conn._write_lock and buffered(conn) > limit then
			session.log("warn", "more than %d bytes wait for a client that does not read: disconnecting it", limit);
			conn.writebuffer = nil; -- dropped: the client catches up from the archives
			conn:close();
			return false;
		end
		return send(stanza);
	end
end);
