// The HTTP server and client of ingot.federated in one process: the protocol gives the same model as
// the simulation, and its errors (registration, stale updates, timeouts) are answered clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ingot from "../../src/index.js";
import * as fl from "../../src/federated/index.js";
import { blobs, ce } from "./federated-fixtures.js";

const { nn } = ingot;
const net = () => new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));


const strategy = () => new fl.FedAvg({ minFitClients: 3, minAvailableClients: 3, onFitConfig: { lr: 0.05, batchSize: 8 } });

for (const secure of [false, true])
  test(`server + 3 HTTP clients${secure ? " with secure aggregation" : ""} give the simulation's model`, async () => {
    const train = blobs(240, 3, 6);
    const parts = fl.iidPartition(240, 3, 1);
    const clients = parts.map((p) => fl.subset(train, p));
    ingot.manualSeed(2);
    const model = net();
    const initial = fl.getWeights(model, fl.layoutOf(model.stateDict()));
    const server = new fl.FederatedServer({ model, modelSpec: "test-net", strategy: strategy(), numRounds: 2, port: 0, secureAggregation: secure, scale: fl.DEFAULT_SCALE, seed: 0 });
    const port = await server.listen();
    try {
      const runs = clients.map((data, i) => fl.runClient({ server: `http://127.0.0.1:${port}`, clientId: i, data, buildModel: () => net(), loss: ce, seed: 0 }));
      const summaries = await Promise.all(runs);
      assert.ok(await server.finished);
      assert.deepEqual(summaries.map((s) => s.rounds), [[1, 2], [1, 2], [1, 2]]);
      // The same rounds in one process.
      const simModel = net();
      fl.setWeights(simModel, initial, fl.layoutOf(simModel.stateDict()));
      const sim = fl.startSimulation({ model: simModel, clients, strategy: strategy(), numRounds: 2, loss: ce, seed: 0, secureAggregation: secure });
      const got = server.getWeights();
      let maxErr = 0;
      let moved = 0;
      for (let j = 0; j < got.length; j++) {
        maxErr = Math.max(maxErr, Math.abs(got[j] - sim.weights[j]));
        moved = Math.max(moved, Math.abs(got[j] - initial[j]));
      }
      assert.ok(moved > 1e-2, "the model trained");
      assert.ok(maxErr < 1e-6, `HTTP vs simulation: ${maxErr}`);
    } finally {
      await server.close();
    }
  });

test("server: registration and update errors are answered with the reason; a secure round that times out fails", async () => {
  ingot.manualSeed(2);
  const logs: string[] = [];
  const server = new fl.FederatedServer({ model: net(), modelSpec: "test-net", strategy: new fl.FedAvg({ minFitClients: 2, minAvailableClients: 2 }), numRounds: 1, port: 0, secureAggregation: true, scale: 2 ** 20, roundTimeoutS: 0.5, log: (l) => logs.push(l) });
  const url = `http://127.0.0.1:${await server.listen()}`;
  const post = (path: string, body: unknown) => fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  try {
    let res = await post("/register", { clientId: 0, numExamples: 10 });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /secure aggregation; send publicKey/);
    res = await post("/register", { clientId: -1, numExamples: 10, publicKey: fl.generateKeys().publicKey });
    assert.equal(res.status, 400);
    assert.equal((await fetch(`${url}/round?clientId=5`)).status, 403);
    assert.equal((await fetch(`${url}/nope`)).status, 404);
    for (const id of [0, 1]) assert.equal((await post("/register", { clientId: id, numExamples: 10, publicKey: fl.generateKeys().publicKey })).status, 200);
    const r = (await (await fetch(`${url}/round?clientId=0&wait=0`)).json()) as { status: string; round: number; peers: Record<string, string> };
    assert.equal(r.status, "train");
    assert.deepEqual(Object.keys(r.peers), ["0", "1"]);
    // A stale round, a plain update to a secure server, a wrong length.
    const size = server.layout.size;
    res = await fetch(`${url}/update?clientId=0&round=7`, { method: "POST", body: fl.encodeVector(new Int32Array(size)) as unknown as BodyInit });
    assert.equal(res.status, 409);
    res = await fetch(`${url}/update?clientId=0&round=1`, { method: "POST", body: fl.encodeVector(new Float32Array(size)) as unknown as BodyInit });
    assert.match(((await res.json()) as { error: string }).error, /send the masked update as I32 words/);
    res = await fetch(`${url}/update?clientId=0&round=1`, { method: "POST", body: fl.encodeVector(new Int32Array(3)) as unknown as BodyInit });
    assert.match(((await res.json()) as { error: string }).error, /holds 3 values but the model has/);
    res = await fetch(`${url}/update?clientId=0&round=1`, { method: "POST", body: fl.encodeVector(new Int32Array(size)) as unknown as BodyInit });
    assert.equal(res.status, 200);
    // Client 1 never answers: the masks cannot cancel, so the run fails and says why.
    assert.equal(await server.finished, false);
    assert.match(server.failure!, /timed out waiting for client\(s\) 1; secure aggregation cannot unmask/);
    const after = (await (await fetch(`${url}/round?clientId=0`)).json()) as { status: string; error: string };
    assert.equal(after.status, "failed");
  } finally {
    await server.close();
  }
});
