-- table_heavy.lua - allocation-heavy Lua for the goalloc preload test: a 200k-entry table of
-- strings and subtables, string concatenation, sorting, dropping half and regrowth, checksums.
-- Deterministic: the same output under any correct malloc.
local maps = os.getenv("GOALLOC_MAPS_FILE")
if maps then
  local src = assert(io.open("/proc/self/maps", "r"))
  local dst = assert(io.open(maps, "w"))
  dst:write(src:read("a")); src:close(); dst:close()
end

local function checksum(s, h)
  for i = 1, #s do h = (h * 31 + s:byte(i)) % 4294967296 end
  return h
end

local N = 200000
local seed = 12345
local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end

local t = {}
for i = 1, N do
  t[i] = { key = "k" .. rand(1000000) .. "_" .. i, val = i * 3, tags = { i % 7, i % 11 } }
end
print("built", #t)

local parts = {}
for i = 1, 20000 do parts[#parts + 1] = t[i].key .. "=" .. t[i].val end
local joined = table.concat(parts, ";")
print("joined length", #joined, "checksum", checksum(joined, 7))

local s = ""
for i = 1, 3000 do s = s .. string.format("%05d|", rand(100000)) end
print("concat length", #s, "checksum", checksum(s, 11))

table.sort(t, function(a, b) return a.key < b.key end)
print("first", t[1].key, "last", t[N].key)

local byTag = {}
for i = 1, N do
  local k = t[i].tags[1] .. ":" .. t[i].tags[2]
  byTag[k] = (byTag[k] or 0) + t[i].val
end
local keys = {}
for k in pairs(byTag) do keys[#keys + 1] = k end
table.sort(keys)
local h = 3
for _, k in ipairs(keys) do h = checksum(k .. byTag[k], h) end
print("groups", #keys, "checksum", h)

local kept = {}
for i = 1, N, 2 do kept[#kept + 1] = t[i] end
t = kept
for i = 1, 1000 do table.remove(t, #t - 10) end
for i = 1, 50000 do t[#t + 1] = { key = string.rep("x", i % 40), val = i } end
collectgarbage("collect")
local total = 0
for i = 1, #t do total = (total + t[i].val) % 1000000007 end
print("after churn", #t, "total", total)
