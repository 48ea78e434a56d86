-- wrk script of bench/suite.sh: token issue (OAuth2 client_credentials).
--   wrk ... -s bench/suite-token.lua URL -- ACCOUNT CLIENT_ID CLIENT_SECRET APPKEY
-- Every request is POST /api/auth/v1/ACCOUNT/protocol/openid-connect/token with the
-- same form body.

function init(args)
   req = wrk.format("POST", "/api/auth/v1/" .. args[1] .. "/protocol/openid-connect/token",
                    {["appkey"] = args[4], ["Content-Type"] = "application/x-www-form-urlencoded"},
                    "grant_type=client_credentials&client_id=" .. args[2] ..
                    "&client_secret=" .. args[3])
end

function request()
   return req
end
