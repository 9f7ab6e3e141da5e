# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "qmlir"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qmlir_obj_root, "test")
# GoogleTest binaries live under unit/ and are run by their own suite.
config.excludes = ["unit", "runtime", "Inputs", "matrix.txt", "generate.py", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%qmlir_lib_dir", config.qmlir_lib_dir))
config.substitutions.append(("%qmlir_tools_dir", config.qmlir_tools_dir))
config.substitutions.append(("%qmlir_obj_root", config.qmlir_obj_root))
config.substitutions.append(("%qmlir_src_root", config.qmlir_src_root))
config.substitutions.append(("%shlibext", ".so"))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.qmlir_tools_dir, config.llvm_tools_dir]
tools = [
    "qmlir-opt",
    "qmlir-run",
    "qmlir-compile",
    "qmlir-run-model",
    "qmlir-bench",
    "not",
    "count",
    ToolSubst("mlir-runner", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# ptxas turns PTX into cubins; without it only PTX-level tests run.
import shutil
cuda_toolkit = os.environ.get("CUDA_HOME", "/usr/local/cuda")
if os.path.exists(os.path.join(cuda_toolkit, "bin", "ptxas")):
    config.available_features.add("ptxas")
elif shutil.which("ptxas"):
    cuda_toolkit = os.path.dirname(os.path.dirname(shutil.which("ptxas")))
    config.available_features.add("ptxas")
config.substitutions.append(("%cuda_toolkit", cuda_toolkit))

# A GPU is there if nvidia-smi lists one; GPU tests are skipped otherwise.
import subprocess
try:
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=30).returncode == 0:
        config.available_features.add("gpu")
except (OSError, subprocess.TimeoutExpired):
    pass
