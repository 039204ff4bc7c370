-- Phase 1 of the Ardour host test (run by `ardour7-lua`, headless, dummy audio backend).
--
-- Builds a stem session the way an engineer lays one out: one audio track per stem, routed to a
-- stem bus of the same part, the stem buses to the master, and an FX bus ("Reverb", with Ardour's
-- own ACE Reverb) fed by aux sends from some tracks. Ardour 7.3's Lua cannot import a WAV, so each
-- track gets a region by bouncing the (empty, silent) track; the test then overwrites those
-- regions' source files with its own audio before phase 2 loads the session again.
--
-- Input (environment):
--   SC_SESSION_DIR, SC_SESSION_NAME  where to create the session (the folder must not exist)
--   SC_RATE                          session sample rate
--   SC_FRAMES                        region length in samples (regions start at sample 0)
--   SC_STEMS                         "Name:channels,..." e.g. "Drums:2,Bass:1,Keys:2"
--   SC_SENDS                         "Name,..." tracks with an aux send to the Reverb bus
--   SC_SOURCES_OUT                   file that receives one line per region source:
--                                    "<stem>\t<channel>\t<absolute path of the source WAV>"
-- Output: the saved session, the sources file, and "SC_OK" on stdout at the end.

local function env(name)
	local v = os.getenv(name)
	if v == nil or v == "" then error("missing environment variable " .. name) end
	return v
end

local session_dir = env("SC_SESSION_DIR")
local session_name = env("SC_SESSION_NAME")
local rate = tonumber(env("SC_RATE"))
local frames = tonumber(env("SC_FRAMES"))
local sources_out = env("SC_SOURCES_OUT")
local sends = {}
for name in string.gmatch(os.getenv("SC_SENDS") or "", "[^,]+") do sends[name] = true end

assert(AudioEngine:set_backend("None (Dummy)", "", "") ~= nil, "no dummy backend")
-- Ardour connects new routes on a background thread (track inputs to the backend's capture
-- ports, outputs to the master), possibly after this script rewired them. The dummy backend's
-- capture ports carry a signal, and a track output left on the master doubles the stem. Off:
-- every connection below is explicit.
ARDOUR.config():set_input_auto_connect(0)
ARDOUR.config():set_output_auto_connect(0)
local s = create_session(session_dir, session_name, rate)
assert(s, "create_session failed for " .. session_dir)

-- Connects every output of `route` to the inputs of `dest` (channel i -> input i mod n).
local function route_to(route, dest)
	route:output():disconnect_all(nil)
	local n = dest:input():n_ports():n_audio()
	for i = 0, route:output():n_ports():n_audio() - 1 do
		local port = route:output():nth(i)
		local rc = route:output():connect(port, dest:input():nth(i % n):name(), nil)
		assert(rc == 0, "cannot connect " .. port:name())
	end
end

local function new_bus(name)
	local list = Session:new_audio_route(2, 2, nil, 1, name,
		ARDOUR.PresentationInfo.Flag.AudioBus, ARDOUR.PresentationInfo.max_order)
	assert(list:size() == 1, "cannot create bus " .. name)
	local bus = list:front()
	-- Ardour appends a number when the name is taken; the test relies on exact names.
	assert(bus:name() == name, "bus got the name " .. bus:name() .. " instead of " .. name)
	return bus
end

local reverb_bus = new_bus("Reverb")
local reverb = ARDOUR.LuaAPI.new_plugin(Session, "ACE Reverb", ARDOUR.PluginType.LV2, "")
assert(not reverb:isnil(), "ACE Reverb not found")
assert(reverb_bus:add_processor_by_index(reverb, 0, nil, true) == 0, "cannot add ACE Reverb")
route_to(reverb_bus, Session:master_out())
reverb_bus:input():disconnect_all(nil)

local out = assert(io.open(sources_out, "w"))
for spec in string.gmatch(env("SC_STEMS"), "[^,]+") do
	local name, channels = string.match(spec, "^([^:]+):(%d+)$")
	assert(name, "bad SC_STEMS entry " .. spec)
	local bus = new_bus(name)
	route_to(bus, Session:master_out())
	local track_name = name .. " Track"
	local track = Session:new_audio_track(tonumber(channels), 2, nil, 1, track_name,
		ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
	assert(track:name() == track_name, "track got the name " .. track:name())
	route_to(track, bus)
	-- Playback only: nothing but the regions may reach the tracks.
	track:input():disconnect_all(nil)
	if sends[name] then
		-- A post-fader aux send. Lua-created aux sends start at -inf dB: set unity.
		local rl = ARDOUR.RouteListPtr()
		rl:push_back(track)
		Session:add_internal_sends(reverb_bus, ARDOUR.Placement.PostFader, rl)
		local level = track:send_level_controllable(0)
		assert(not level:isnil(), "no send on " .. name)
		level:set_value(1.0, PBD.GroupControlDisposition.NoGroup)
		assert(level:get_value() == 1.0, "send level reads " .. level:get_value())
	end
	-- A silent region of exactly `frames` samples at position 0: the bounce of the empty track.
	local region = track:bounce_range(0, frames, ARDOUR.InterThreadInfo(), ARDOUR.LuaAPI.nil_proc(), false, name)
	assert(not region:isnil(), "bounce failed for " .. name)
	assert(region:length():samples() == frames, "bounced region has the wrong length")
	local ar = region:to_audioregion()
	-- New regions get 64-sample fades; the stems must play untouched.
	ar:set_fade_in_active(false)
	ar:set_fade_out_active(false)
	track:playlist():add_region(region, Temporal.timepos_t(0), 1, false, 0, 0, false)
	for c = 0, ar:n_channels() - 1 do
		out:write(name .. "\t" .. c .. "\t" .. region:source(c):to_filesource():path() .. "\n")
	end
end
out:close()

Session:save_state("", false, false, false, false, false)
close_session()
print("SC_OK")
