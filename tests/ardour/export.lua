-- Phase 2 of the Ardour host test (run by `ardour7-lua`, headless, dummy audio backend).
--
-- Loads the session built by build_session.lua (whose region sources the test has replaced with
-- its stems), puts StemCheck on the stem buses (role stem) and on the master (role mix), optionally
-- injects a fault, and exports the master with `Session:simple_export()` - the offline export an
-- engineer runs from the Export dialog. StemCheck captures every instance while it runs.
--
-- Input (environment):
--   SC_SESSION_DIR, SC_SESSION_NAME  the session from phase 1
--   SC_FRAMES                        export range [0, SC_FRAMES) in samples
--   SC_EXPORT_DIR                    folder for Ardour's own export of the master
--   SC_PRESET_ID                     uuid of the export preset (found via ARDOUR_EXPORT_FORMATS_PATH)
--   SC_PLUGIN                        VST3 plugin name to insert (e.g. "StemCheck"); empty = none
--   SC_STEM_BUSES                    "Name,..." buses that get a StemCheck with role stem
--   SC_MASTER_COMP                   "1": an ACE Compressor on the master, before StemCheck
--   SC_REVERB_WET                    ACE Reverb blend on the Reverb bus (0..1), default 1 (all wet)
-- Output: the export, StemCheck's captures (in STEMCHECK_CAPTURE_DIR), and "SC_OK" on stdout.

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		if default ~= nil then return default end
		error("missing environment variable " .. name)
	end
	return v
end

local frames = tonumber(env("SC_FRAMES"))
local plugin_name = env("SC_PLUGIN", "")

assert(AudioEngine:set_backend("None (Dummy)", "", "") ~= nil, "no dummy backend")
local s = load_session(env("SC_SESSION_DIR"), env("SC_SESSION_NAME"))
assert(s, "load_session failed")

-- The index of the control input whose label is `label` (the `which` of set_processor_param).
local function control_index(proc, label)
	local plugin = proc:to_insert():plugin(0)
	local n = 0
	for i = 0, plugin:parameter_count() - 1 do
		if plugin:parameter_is_control(i) and plugin:parameter_is_input(i) then
			if plugin:parameter_label(i) == label then return n end
			n = n + 1
		end
	end
	error("plugin " .. plugin:name() .. " has no parameter " .. label)
end

local function set_param(proc, label, value)
	local which = control_index(proc, label)
	assert(ARDOUR.LuaAPI.set_processor_param(proc, which, value), "cannot set " .. label)
	local got = ARDOUR.LuaAPI.get_processor_param(proc, which)
	assert(math.abs(got - value) < 1e-6, label .. " reads back " .. tostring(got))
end

local function route(name)
	local r = Session:route_by_name(name)
	assert(not r:isnil(), "no route " .. name)
	return r
end

-- Index -1 puts the plugin after the fader (on a track: before the sends) and after any other
-- insert on the master, so StemCheck sees exactly what leaves the bus.
local function add_stemcheck(r, role)
	local proc = ARDOUR.LuaAPI.new_plugin(Session, plugin_name, ARDOUR.PluginType.VST3, "")
	assert(not proc:isnil(), "VST3 plugin " .. plugin_name .. " not found (scanned? see run script)")
	assert(r:add_processor_by_index(proc, -1, nil, true) == 0, "cannot add " .. plugin_name .. " to " .. r:name())
	-- A VST3 enum parameter appears here as its plain value 0..N-1 (0 = stem, 1 = mix).
	set_param(proc, "Role", role)
	print("SC_PLUGIN_ADDED", r:name(), role)
end

set_param(route("Reverb"):nth_plugin(0), "Blend", tonumber(env("SC_REVERB_WET", "1")))

if env("SC_MASTER_COMP", "0") == "1" then
	local comp = ARDOUR.LuaAPI.new_plugin(Session, "ACE Compressor (stereo)", ARDOUR.PluginType.LV2, "")
	assert(not comp:isnil(), "ACE Compressor (stereo) not found")
	assert(Session:master_out():add_processor_by_index(comp, 0, nil, true) == 0, "cannot add compressor")
	set_param(comp, "Attack", 1)
	set_param(comp, "Release", 60)
	set_param(comp, "Ratio", 8)
	set_param(comp, "Threshold", -30)
	print("SC_COMPRESSOR_ADDED")
end

if plugin_name ~= "" then
	for name in string.gmatch(env("SC_STEM_BUSES", ""), "[^,]+") do
		add_stemcheck(route(name), 0)
	end
	add_stemcheck(Session:master_out(), 1)
end

local export = Session:simple_export()
export:set_name("master")
export:set_folder(env("SC_EXPORT_DIR"))
export:set_range(0, frames)
-- set_preset silently falls back to the first preset when the id is unknown (it still returns
-- true), so the test also checks the exported file is 32-bit float.
assert(export:set_preset(env("SC_PRESET_ID")), "export preset not found")
assert(export:check_outputs(), "master has no outputs to export")
local t0 = ARDOUR.LuaAPI.monotonic_time()
assert(export:run_export(), "export failed")
print(string.format("SC_EXPORT_SECONDS %.3f", (ARDOUR.LuaAPI.monotonic_time() - t0) / 1e6))

close_session()
print("SC_OK")
