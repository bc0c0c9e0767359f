"""The live_edge fixture really serves HTTP on loopback."""

from conftest import assert_response, login_as


def test_live_edge_answers_over_real_http(live_edge):
    with live_edge.client() as http:
        assert assert_response(http.get("/health"), 200)["site"] == "CHI"
    admin = login_as(live_edge.services, "admin")
    with live_edge.client(admin) as http:
        assert assert_response(http.get("/api/v1/auth/me"), 200)["role"] == "admin"
