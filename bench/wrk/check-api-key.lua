-- GET /v1/check-api-key, a request without a body; API_KEY comes from the environment.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("API_KEY")
