#!/usr/bin/python3
"""Runs the funnel through the four real service binaries with a Python
client generated from protos/ - the independent check a new user would do.

usage: python_client_test.py <build dir> <source dir>
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from handoff_testing import free_port, generate_stubs, wait_for  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SERVICES = ["persona", "campaign", "routing", "deal"]








class FunnelThroughPythonClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="handoff-py-")
        generate_stubs(SOURCE, os.path.join(cls.tmp, "stubs"))
        cls.ports = {s: free_port() for s in SERVICES}
        cls.metrics_ports = {s: free_port() for s in SERVICES}
        addresses = ["--%s_address=127.0.0.1:%d" % (s, cls.ports[s]) for s in SERVICES]
        cls.procs = {}
        cls.logs = {s: open(os.path.join(cls.tmp, s + ".log"), "w") for s in SERVICES}
        for s in SERVICES:
            cls.procs[s] = subprocess.Popen(
                [os.path.join(BUILD, "services", s, "handoff-" + s),
                 "--listen_host=127.0.0.1", "--port=%d" % cls.ports[s],
                 "--metrics_port=%d" % cls.metrics_ports[s],
                 "--db_path=%s/%s.db" % (cls.tmp, s), "--db_sync=normal",
                 "--shutdown_grace=0s", "--drain_timeout=2s",
                 "--log_format=json"] + addresses,
                stdout=cls.logs[s], stderr=subprocess.STDOUT)
        import grpc
        cls.channels = {s: grpc.insecure_channel("127.0.0.1:%d" % cls.ports[s]) for s in SERVICES}

        def all_serving():
            for s in SERVICES:
                # grpc.health.v1.Health/Check with an empty request; the
                # reply {status: SERVING} encodes as 08 01.
                check = cls.channels[s].unary_unary(
                    "/grpc.health.v1.Health/Check",
                    request_serializer=lambda b: b, response_deserializer=lambda b: b)
                try:
                    if check(b"", timeout=1) != b"\x08\x01":
                        return False
                except grpc.RpcError:
                    return False
            return True
        wait_for(all_serving, "health SERVING on all four services")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        started = time.monotonic()
        codes = {s: p.wait(timeout=30) for s, p in cls.procs.items()}
        print("all four exited %.1fs after SIGTERM" % (time.monotonic() - started))
        for f in cls.logs.values():
            f.close()
        if os.environ.get("HANDOFF_TEST_VERBOSE") or any(c != 0 for c in codes.values()):
            for s in SERVICES:
                print("---- %s log" % s)
                print(open(os.path.join(cls.tmp, s + ".log")).read()[-3000:])
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert all(c == 0 for c in codes.values()), "exit codes after SIGTERM: %s" % codes

    def test_funnel_capture_to_won_revenue(self):
        import grpc
        from handoff.persona.v1 import persona_pb2, persona_pb2_grpc
        from handoff.campaign.v1 import campaign_pb2, campaign_pb2_grpc
        from handoff.routing.v1 import routing_pb2, routing_pb2_grpc
        from handoff.deal.v1 import deal_pb2, deal_pb2_grpc
        from handoff.type import money_pb2
        persona = persona_pb2_grpc.PersonaServiceStub(self.channels["persona"])
        campaign = campaign_pb2_grpc.CampaignServiceStub(self.channels["campaign"])
        routing = routing_pb2_grpc.LeadRoutingServiceStub(self.channels["routing"])
        deal = deal_pb2_grpc.DealServiceStub(self.channels["deal"])
        run = uuid.uuid4().hex[:8]

        cto = persona.CreatePersona(persona_pb2.CreatePersonaRequest(
            persona=persona_pb2.Persona(
                display_name="Platform CTO",
                criteria=persona_pb2.PersonaCriteria(
                    industries=["software"], min_employees=50, countries=["DE"],
                    seniorities=[persona_pb2.SENIORITY_C_LEVEL]))), timeout=5)
        self.assertTrue(cto.name.startswith("personas/"))

        usd = lambda units: money_pb2.Money(currency_code="USD", minor_units=units)
        webinar = campaign.CreateCampaign(campaign_pb2.CreateCampaignRequest(
            campaign=campaign_pb2.Campaign(
                display_name="Webinar " + run, channel=campaign_pb2.CHANNEL_WEBINAR,
                target_personas=[cto.name], budget=usd(500000), spend=usd(200000))),
            timeout=5)

        rep = routing.CreateRep(routing_pb2.CreateRepRequest(
            rep=routing_pb2.Rep(display_name="Ada", team="emea", capacity=5)), timeout=5)

        # Bad input: canonical code, message names the field.
        with self.assertRaises(grpc.RpcError) as bad:
            campaign.CaptureLead(campaign_pb2.CaptureLeadRequest(
                campaign=webinar.name, email="not-an-email"), timeout=5)
        self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("email", bad.exception.details())

        captured = campaign.CaptureLead(campaign_pb2.CaptureLeadRequest(
            request_id="cap-" + run, campaign=webinar.name,
            email="  Grace.Hopper@Example.com ", first_name="Grace",
            profile=persona_pb2.LeadProfile(
                industry="Software", employee_count=400, country="DE",
                job_title="CTO", seniority=persona_pb2.SENIORITY_C_LEVEL)), timeout=5)
        self.assertTrue(captured.created)
        lead = captured.lead
        self.assertEqual(lead.normalized_email, "grace.hopper@example.com")
        self.assertEqual(lead.persona, cto.name)
        again = campaign.CaptureLead(campaign_pb2.CaptureLeadRequest(
            campaign=webinar.name, email="grace.hopper@example.com"), timeout=5)
        self.assertFalse(again.created)
        self.assertEqual(again.lead.name, lead.name)

        engaged = campaign.RecordEngagement(campaign_pb2.RecordEngagementRequest(
            lead=lead.name, type=campaign_pb2.ENGAGEMENT_TYPE_DEMO_REQUEST), timeout=5)
        self.assertTrue(engaged.became_mql)
        self.assertEqual(engaged.lead.stage, campaign_pb2.LEAD_STAGE_MQL)

        def offered():
            r = routing.ListAssignments(routing_pb2.ListAssignmentsRequest(
                filter="lead=%s AND state=PENDING" % lead.name), timeout=5)
            return r.assignments[0] if r.assignments else None
        offer = wait_for(offered, "the MQL to be offered to a rep")
        self.assertEqual(offer.rep, rep.name)
        self.assertTrue(offer.HasField("accept_due_time"))

        with self.assertRaises(grpc.RpcError) as wrong:
            routing.AcceptAssignment(routing_pb2.AcceptAssignmentRequest(
                name=offer.name, rep="reps/someone-else"), timeout=5)
        self.assertEqual(wrong.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        accepted = routing.AcceptAssignment(routing_pb2.AcceptAssignmentRequest(
            name=offer.name, rep=rep.name), timeout=5)
        self.assertEqual(accepted.state, routing_pb2.ASSIGNMENT_STATE_ACCEPTED)
        wait_for(lambda: campaign.GetLead(campaign_pb2.GetLeadRequest(name=lead.name),
                                          timeout=5).stage == campaign_pb2.LEAD_STAGE_SAL,
                 "campaign to see the lead accepted")

        with self.assertRaises(grpc.RpcError) as negative:
            deal.CreateDeal(deal_pb2.CreateDealRequest(deal=deal_pb2.Deal(
                lead=lead.name, amount=usd(-1),
                expected_close_time={"seconds": int(time.time()) + 86400})), timeout=5)
        self.assertEqual(negative.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        d = deal.CreateDeal(deal_pb2.CreateDealRequest(request_id="deal-" + run, deal=deal_pb2.Deal(
            lead=lead.name, display_name="Grace's platform", amount=usd(1200000),
            expected_close_time={"seconds": int(time.time()) + 86400})), timeout=5)
        self.assertEqual(d.owner, rep.name)
        d = deal.UpdateDealStage(deal_pb2.UpdateDealStageRequest(
            name=d.name, stage=deal_pb2.DEAL_STAGE_PROPOSAL, actor=rep.name), timeout=5)
        with self.assertRaises(grpc.RpcError) as backwards:
            deal.UpdateDealStage(deal_pb2.UpdateDealStageRequest(
                name=d.name, stage=deal_pb2.DEAL_STAGE_DISCOVERY), timeout=5)
        self.assertEqual(backwards.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        won = deal.CloseDeal(deal_pb2.CloseDealRequest(
            name=d.name, outcome=deal_pb2.DEAL_OUTCOME_WON, reason="CHAMPION"), timeout=5)
        self.assertEqual(won.stage, deal_pb2.DEAL_STAGE_CLOSED_WON)
        with self.assertRaises(grpc.RpcError) as closed:
            deal.CloseDeal(deal_pb2.CloseDealRequest(
                name=d.name, outcome=deal_pb2.DEAL_OUTCOME_LOST, reason="PRICE"), timeout=5)
        self.assertEqual(closed.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)

        def revenue_reported():
            r = campaign.GetCampaignReport(campaign_pb2.GetCampaignReportRequest(
                campaign=webinar.name), timeout=5)
            return r if r.won == 1 else None
        report = wait_for(revenue_reported, "won revenue to reach the campaign report")
        self.assertEqual((report.leads, report.mqls, report.accepted, report.deals),
                         (1, 1, 1, 1))
        self.assertEqual(report.attributed_revenue.minor_units, 1200000)
        self.assertEqual(report.roi_basis_points, (1200000 - 200000) * 10000 // 200000)
        self.assertEqual(campaign.GetLead(campaign_pb2.GetLeadRequest(name=lead.name),
                                          timeout=5).stage, campaign_pb2.LEAD_STAGE_CUSTOMER)

        # Each service exposes the Go-style gRPC metrics; promtool accepts them.
        for s in SERVICES:
            text = urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % self.metrics_ports[s], timeout=5).read().decode()
            self.assertIn('grpc_server_handled_total{', text)
            self.assertIn('grpc_code="OK"', text)
            self.assertIn("grpc_server_handling_seconds_bucket", text)
            self.assertIn("handoff_build_info", text)
            if shutil.which("promtool"):
                check = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                                       capture_output=True)
                self.assertEqual(check.returncode, 0, s + ": " + check.stdout.decode()
                                 + check.stderr.decode())
        campaign_metrics = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % self.metrics_ports["campaign"], timeout=5).read().decode()
        self.assertIn('grpc_code="InvalidArgument"', campaign_metrics)
        self.assertIn("grpc_client_handled_total", campaign_metrics)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
