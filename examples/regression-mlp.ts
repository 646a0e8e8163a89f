// Seed 003 §5.2 as runnable TypeScript: a PyTorch-style MLP (10 → 50 → 1) trained with MSELoss and
// Adam for 100 epochs over a DataLoader, then evaluated without gradients. The seed leaves
// data_loader, test_data and test_targets undefined; here they come from a synthetic target,
// y = 0.5·tanh(x·w) + 0.1·(x·w) with x ~ N(0, I) (the one `ingot train regression-mlp` uses).
//   node dist/examples/regression-mlp.js [--epochs 100]
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
const { nn, optim } = ingot;
const { DataLoader, TensorDataset } = ingot.data;

const { values: args } = parseArgs({ options: { epochs: { type: "string", default: "100" }, seed: { type: "string", default: "0" } } });

// The data the seed assumes: 1000 training and 250 test samples of a smooth nonlinear target.
const w = ingot.tensor([0.5, -0.3, 0.8, 0.1, -0.6, 0.4, -0.2, 0.7, -0.5, 0.3]).reshape([10, 1]);
function target(x: ingot.Tensor): ingot.Tensor {
  const z = x.matmul(w); // (N, 1)
  return ingot.tanh(z).mul(0.5).add(z.mul(0.1));
}
const trainData = ingot.randn([1000, 10], { generator: new ingot.Generator(1234) });
const testData = ingot.randn([250, 10], { generator: new ingot.Generator(1235) });
const testTargets = target(testData);
ingot.manualSeed(Number(args.seed));
const dataLoader = new DataLoader(new TensorDataset(trainData, target(trainData)), { batchSize: 32, shuffle: true });

// 定义模型结构 — the model
class MLP extends nn.Module {
  fc1: ingot.nn.Linear;
  fc2: ingot.nn.Linear;
  constructor(inputDim: number, hiddenDim: number, outputDim: number) {
    super();
    this.fc1 = new nn.Linear(inputDim, hiddenDim);
    this.fc2 = new nn.Linear(hiddenDim, outputDim);
  }

  override forward(x: ingot.Tensor): ingot.Tensor {
    x = ingot.relu(this.fc1.call(x));
    x = this.fc2.call(x);
    return x;
  }
}

// 创建模型实例 — an instance
const model = new MLP(10, 50, 1);

// 指定损失函数和优化器 — loss and optimizer
const criterion = new nn.MSELoss();
const optimizer = new optim.Adam(model.parameters(), { lr: 0.001 });

// 训练模型 — train
const numEpochs = Number(args.epochs);
for (let epoch = 0; epoch < numEpochs; epoch++) {
  let loss!: ingot.Tensor;
  for (const [inputs, targets] of dataLoader) {
    optimizer.zeroGrad();
    const outputs = model.call(inputs);
    loss = criterion.call(outputs, targets);
    loss.backward();
    optimizer.step();
  }
  console.log(`Epoch [${epoch + 1}/${numEpochs}], Loss: ${loss.item().toFixed(4)}`);
}

// 评估模型 — evaluate
ingot.noGrad(() => {
  const outputs = model.call(testData);
  const testLoss = criterion.call(outputs, testTargets);
  console.log(`Test Loss: ${testLoss.item().toFixed(4)}`);
});
