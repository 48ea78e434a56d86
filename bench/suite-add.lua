-- wrk script of bench/suite.sh: phone-number adds, each number once.
--   wrk ... -s bench/suite-add.lua URL -- FILE TOKEN APPKEY THREADS [then-healthz]
-- FILE holds "ACCOUNT,NUMBER" lines; thread t of THREADS sends lines t, t+THREADS, ...
-- as POST /api/admin/voice/v1/accounts/ACCOUNT/phone-numbers {"phoneNumber": NUMBER}.
-- Past the end of its share a thread starts over: those adds answer 409 and wrk counts
-- them as non-2xx, which bench/suite.sh reports as an error (make FILE long enough).
-- With "then-healthz" it sends GET /healthz instead (the drain's backlog: as many adds
-- as the run has time for, at most FILE's).

local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

function init(args)
   local file, token, threads = args[1], args[2], tonumber(args[4])
   headers = {
      ["Authorization"] = "Bearer " .. token,
      ["appkey"] = args[3],
      ["Content-Type"] = "application/json",
   }
   accounts, numbers = {}, {}
   local i = 0
   for line in io.lines(file) do
      if i % threads == tid then
         local account, number = line:match("^([^,]+),(.+)$")
         accounts[#accounts + 1] = account
         numbers[#numbers + 1] = number
      end
      i = i + 1
   end
   n = 0
   then_healthz = args[5] == "then-healthz"
end

function request()
   if then_healthz and n >= #numbers then
      return wrk.format("GET", "/healthz")
   end
   n = n % #numbers + 1
   return wrk.format("POST", "/api/admin/voice/v1/accounts/" .. accounts[n] .. "/phone-numbers",
                     headers, '{"phoneNumber":"' .. numbers[n] .. '"}')
end
