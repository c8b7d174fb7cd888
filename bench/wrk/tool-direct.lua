-- GET the fake tool's employees directly (the URL names the path) with the Basic auth header
-- Plugboard would send it (TOOL_AUTHORIZATION, from the environment).
wrk.method = "GET"
wrk.headers["Authorization"] = os.getenv("TOOL_AUTHORIZATION")
