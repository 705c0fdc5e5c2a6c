%% Members talk only to chatd's domains, the server, and their own account: never to each
%% other's real JIDs. ejabberd's counterpart of conf/prosody/members-isolation.pfw.
%%
%% ejabberd's ACLs and access rules decide who may log in, register, use a service or a
%% shaper; none of them looks at where a client's stanza goes, and mod_block_strangers
%% filters only messages and subscription requests (a roster entry opens it). So this
%% module hooks user_send_packet on the members' host: a stanza from a member to another
%% account of the same host (a user part, another bare JID) is answered with
%% policy-violation and dropped. Own-account traffic (own bare JID, own other resources)
%% and stanzas to the server itself pass. Members log in only here; s2s is off.
-module(mod_chatd_isolation).
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_options/1, mod_opt_type/1, mod_doc/0]).
-export([user_send_packet/1]).

-include_lib("kernel/include/logger.hrl").

start(Host, _Opts) ->
    ejabberd_hooks:add(user_send_packet, Host, ?MODULE, user_send_packet, 1),
    ok.

stop(Host) ->
    ejabberd_hooks:delete(user_send_packet, Host, ?MODULE, user_send_packet, 1),
    ok.

reload(_Host, _NewOpts, _OldOpts) -> ok.

depends(_Host, _Opts) -> [].

mod_opt_type(text) -> econf:binary().

mod_options(_Host) -> [{text, <<"Direct contact between members is disabled">>}].

mod_doc() -> #{desc => ["Refuses stanzas from one member's account to another's."]}.

user_send_packet({Packet, State} = Acc) ->
    %% ejabberd_hooks passes the stanza on when a hook crashes: fail closed instead
    try refused(xmpp:get_from(Packet), xmpp:get_to(Packet)) of
        false -> Acc;
        true -> refuse(Packet, State)
    catch
        Class:Reason ->
            ?LOG_ERROR("mod_chatd_isolation dropped a stanza it could not check: ~p:~p", [Class, Reason]),
            {stop, {drop, State}}
    end.

refuse(Packet, #{lserver := Host} = State) ->
    Text = gen_mod:get_module_opt(Host, ?MODULE, text),
    ejabberd_router:route_error(Packet, xmpp:err_policy_violation(Text, xmpp:get_lang(Packet))),
    {stop, {drop, State}}.

%% another account (a user part) on the sender's own host, and not the sender's own bare JID
refused(undefined, _To) -> false;
refused(_From, undefined) -> false;
refused(From, To) ->
    {FromUser, FromServer, _} = jid:tolower(From),
    {ToUser, ToServer, _} = jid:tolower(To),
    ToUser /= <<>> andalso ToServer == FromServer andalso ToUser /= FromUser.
