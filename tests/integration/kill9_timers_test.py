#!/usr/bin/python3
"""kill -9 of the real routing binary while SLA timers are pending: after a
restart over the same database, every offer whose deadline passed while the
process was down is breached exactly once and reoffered exactly once, and a
second kill -9 right after does not fire anything again.

The accept window is 2 s of real time (this is a real-process crash test),
so the test waits about 3 s in all.

usage: kill9_timers_test.py <build dir> <source dir>
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from handoff_testing import free_port, generate_stubs, wait_for  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
WINDOW_S = 2.0
LEADS = 20








class Kill9Timers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="handoff-kill9-")
        generate_stubs(SOURCE, os.path.join(self.tmp, "stubs"))
        self.port = free_port()
        # Nobody listens there: feedback waits in the outbox, which is what
        # a campaign outage looks like.
        self.campaign_port = free_port()
        self.proc = None
        self.log = open(os.path.join(self.tmp, "routing.log"), "w")

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def print_log(self):
        self.log.flush()
        print("---- routing log (both processes)")
        with open(os.path.join(self.tmp, "routing.log")) as f:
            print(f.read()[-4000:])

    def start_routing(self):
        import grpc
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "services/routing/handoff-routing"),
             "--listen_host=127.0.0.1", "--port=%d" % self.port, "--metrics_port=0",
             "--db_path=%s/routing.db" % self.tmp, "--db_sync=full",
             "--shutdown_grace=0s", "--drain_timeout=2s", "--log_format=json",
             "--accept_window=%gs" % WINDOW_S, "--max_attempts=2",
             "--campaign_address=127.0.0.1:%d" % self.campaign_port],
            stdout=self.log, stderr=subprocess.STDOUT)
        # Connect only once the port listens: a channel that tried earlier
        # would wait out its reconnect backoff (a second).
        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0
        wait_for(listening, "routing to listen")
        channel = grpc.insecure_channel("127.0.0.1:%d" % self.port)
        grpc.channel_ready_future(channel).result(timeout=20)
        from handoff.routing.v1 import routing_pb2_grpc
        return routing_pb2_grpc.LeadRoutingServiceStub(channel)

    def kill9(self):
        self.proc.kill()  # SIGKILL: no shutdown code runs
        self.proc.wait()
        self.proc = None

    def chains(self, routing, leads):
        """Each lead's assignments, by attempt."""
        from handoff.routing.v1 import routing_pb2
        out = {}
        for lead in leads:
            r = routing.ListAssignments(routing_pb2.ListAssignmentsRequest(
                filter="lead=" + lead, page_size=100), timeout=5)
            out[lead] = sorted(r.assignments, key=lambda a: a.attempt)
        return out

    def check_fired_once(self, chains, first_offers):
        """One breach and one reoffer per lead. The reoffer may have lapsed
        too by now; with --max_attempts=2 that recycles the lead and adds no
        offer, so a third assignment could only come from a double firing."""
        from handoff.routing.v1 import routing_pb2
        for lead, first in first_offers.items():
            chain = chains[lead]
            self.assertEqual([a.attempt for a in chain], [1, 2],
                             "%s: one breach, one reoffer: %s" % (lead, chain))
            self.assertEqual(chain[0].name, first.name)
            self.assertEqual(chain[0].state, routing_pb2.ASSIGNMENT_STATE_BREACHED)
            self.assertEqual(chain[1].previous_assignment, first.name)
            self.assertNotEqual(chain[1].rep, first.rep, "never back to the lapsed rep")
            self.assertIn(chain[1].state, (routing_pb2.ASSIGNMENT_STATE_PENDING,
                                           routing_pb2.ASSIGNMENT_STATE_BREACHED))

    def test_deadlines_passed_while_killed_fire_once(self):
        try:
            self.run_scenario()
        except BaseException:
            self.print_log()
            raise
        if os.environ.get("HANDOFF_TEST_VERBOSE"):
            self.print_log()

    def run_scenario(self):
        from handoff.routing.v1 import routing_pb2
        routing = self.start_routing()
        for name in ("Ada", "Bo"):
            routing.CreateRep(routing_pb2.CreateRepRequest(
                request_id="rep-" + name,
                rep=routing_pb2.Rep(display_name=name, team="emea", capacity=LEADS)),
                timeout=5)
        run = uuid.uuid4().hex[:8]
        first_offers = {}
        for i in range(LEADS):
            lead = "leads/kill9-%s-%d" % (run, i)
            r = routing.RouteLead(routing_pb2.RouteLeadRequest(
                request_id="route-%s-%d" % (run, i), lead=lead,
                lead_summary=routing_pb2.LeadSummary(score=70)), timeout=5)
            self.assertFalse(r.queued)
            first_offers[lead] = r.assignment
        self.kill9()
        killed_at = time.time()
        earliest_due = min(a.accept_due_time.ToSeconds() + a.accept_due_time.nanos / 1e9
                           for a in first_offers.values())
        latest_due = max(a.accept_due_time.ToSeconds() + a.accept_due_time.nanos / 1e9
                         for a in first_offers.values())
        self.assertLess(killed_at, earliest_due,
                        "killed before any deadline, so none fired before the crash")

        # Down while every deadline passes.
        time.sleep(max(0.0, latest_due - time.time()) + 0.3)
        routing = self.start_routing()
        serving_after = time.time() - latest_due
        leads = list(first_offers)

        def all_breached():
            chains = self.chains(routing, leads)
            firsts = [c[0] for c in chains.values() if c]
            return chains if all(
                a.state == routing_pb2.ASSIGNMENT_STATE_BREACHED for a in firsts) and all(
                len(c) >= 2 for c in chains.values()) else None
        chains = wait_for(all_breached, "the lapsed offers to be breached after restart")
        breached_after = time.time() - latest_due
        self.check_fired_once(chains, first_offers)

        # A second crash right away, and a restart: nothing fires twice.
        self.kill9()
        routing = self.start_routing()
        time.sleep(0.3)  # the reload and any (wrong) firing happen at once
        self.check_fired_once(self.chains(routing, leads), first_offers)
        print("%d offers lapsed while killed; serving again %.2fs after the last "
              "deadline, all breached and reoffered once by %.2fs" % (
                  LEADS, serving_after, breached_after))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
