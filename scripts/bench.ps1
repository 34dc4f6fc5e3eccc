# Twin of bench.sh: both pools (and the executor with --inline-completions false) against the reference servers in
# ../shared/peers when present, one server at a time, every workload driven by echo-load with the server's CPU
# and peak RSS sampled; prints the table and the target ratios, writes results/bench-<timestamp>/.
#   scripts/bench.ps1 [-Quick] [-Aot] [-Out DIR] [-DryRun] [-Rounds N] [-Servers "c-epoll kestrel go py-executor py-queue c-udp workers workers-aot executor executor-aot executor-threadpool executor-uring c-uring"]
#                     [-Workloads "1c-64B 100c-64B tls-100c-64B 100c-16KiB tls-100c-16KiB 1000c-1KiB 10k-active connect-50c tls-connect-50c 10k-idle udp-1c-64B udp-100c-64B udp-rate-20k"]
# TLS workloads (tls-*): the plaintext row beside each, over TLS (echo-load --tls --insecure against the pools started
# with --tls-self-signed); tls-connect-50c makes a handshake per connection: handshakes per second. Pools only.
# UDP workloads (udp-*): the pools with --udp --udp-rate-per-ip 0, and c-udp, the minimal C UDP echo
# (scripts/lib/udp-echo.c, built with gcc into DIR, a reference only; in the default servers when gcc is on PATH);
# the peers have no UDP and skip them. udp-rate-20k is open loop: loss there (exit code 4) is a result, accepted.
# 10k-active: 10,000 connections (2,000 with -Quick) each in 64 B ping-pong, every pool sized to serve them all (the
# 10k-idle options; the Python peers skip both, the worker pool skips it); echo-load opens them 256 at a time and
# starts its warm-up once every one has connected.
# workers-aot and executor-aot: the Native AOT build (scripts/publish.ps1, once per run, into DIR/publish), in a
# full run always, with -Quick only with -Aot. The C epoll reference client runs from bench.sh only.
# -Rounds N (default 1): N alternated rounds, round by round, workload by workload, the servers taking turns (one
# round: server by server). Each run's JSON is labelled round=K (and named SERVER-WORKLOAD-roundK.json); bench.md gives
# each figure and target as the median of its rounds, and names a failure in any round; the charts draw the first
# round. -DryRun prefixes each line with "round K " then.
# -DryRun prints the plan (each server's command line, echo-load's arguments, the exit codes accepted) and runs
# nothing: bench.sh --dry-run prints the same plan. Every run must exit 0, except the Python peers (128 threads,
# one client each) at 1,000 connections: 872 clients wait unanswered by design, so echo-load's exit code 4 is
# accepted there, and only there. A run that fails otherwise makes the script exit 1 after the table.
param([switch] $Quick, [switch] $Aot, [string] $Out = '', [string] $Servers = '', [string] $Workloads = '', [switch] $DryRun, [string] $Rounds = '1')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out, $Servers, $Workloads | Where-Object { $_ -like '-*' }))
if ($Rounds -notmatch '^[1-9][0-9]*$') { [Console]::Error.WriteLine("bench.ps1: -Rounds takes a positive integer, not '$Rounds'"); exit 2 }
$roundCount = [int] $Rounds

$peersDir = Join-Path $RepoRoot '../shared/peers'
if ($Quick) { $duration = 2; $warmup = 0.5; $many = 2000; $defaultPeers = 'c-epoll kestrel' }
else { $duration = 5; $warmup = 1; $many = 10000; $defaultPeers = 'c-epoll kestrel go py-executor py-queue' }
if (-not $Servers) {
  $Servers = if (-not $Quick -or $Aot) { 'workers workers-aot executor executor-aot executor-threadpool' } else { 'workers executor executor-threadpool' }
  if (Test-Path (Join-Path $peersDir 'run-peer.sh')) { $Servers = "$defaultPeers $Servers" }
  else { [Console]::Error.WriteLine("bench.ps1: no reference servers at $peersDir; comparing the pools only") }
  if (Get-Command gcc -ErrorAction SilentlyContinue) { $Servers = "c-udp $Servers" } # the C UDP reference, for the UDP workloads
  if ($IsLinux) {
    $Servers = "$Servers executor-uring" # the executor with --io-engine io_uring, beside the liburing peer when it can build
    if ((Test-Path '/usr/include/liburing.h') -and " $Servers " -like '* c-epoll *') { $Servers = $Servers -replace 'c-epoll ', 'c-epoll c-uring ' }
  }
}
if (-not (Get-Command go -ErrorAction SilentlyContinue)) { $Servers = ($Servers -split ' ' | Where-Object { $_ -ne 'go' }) -join ' ' }
# Our pools' options for a workload (bench.sh's server_options).
function Get-ServerOptions([string] $Name, [string] $Workload) {
  $opts = @('--pool', ($Name -replace '-[^-]*$', '')) # workers-aot → workers, executor-threadpool → executor
  if ($Name -eq 'executor-threadpool') { $opts += '--inline-completions', 'false' }
  if ($Name -eq 'executor-uring') { $opts += '--io-engine', 'io_uring' }
  if ($Workload -eq '1000c-1KiB') { $opts += @('--workers', '1000', '--max-connections', '1100') }
  if ($Workload -like '10k-*') { $opts += @('--workers', "$many", '--max-connections', "$($many + 100)", '--queue', "$many", '--when-full', 'wait', '--backlog', '4096') }
  if ($Workload -like 'udp-*') { $opts += @('--udp', '--udp-rate-per-ip', '0') }
  if ($Workload -like 'tls-*') { $opts += @('--tls-self-signed') }
  return $opts
}

$tls = @('--tls', '--insecure')
$allWorkloads = [ordered]@{
  '1c-64B' = @('-c', '1', '-s', '64'); '100c-64B' = @('-c', '100', '-s', '64'); 'tls-100c-64B' = $tls + @('-c', '100', '-s', '64')
  '100c-16KiB' = @('-c', '100', '-s', '16KiB'); 'tls-100c-16KiB' = $tls + @('-c', '100', '-s', '16KiB'); '1000c-1KiB' = @('-c', '1000', '-s', '1KiB')
  '10k-active' = @('-c', "$many", '-s', '64')
  'connect-50c' = @('--mode', 'connect', '-c', '50', '-s', '64'); 'tls-connect-50c' = $tls + @('--mode', 'connect', '-c', '50', '-s', '64'); '10k-idle' = @('--mode', 'hold', '-c', "$many", '-s', '64')
  'udp-1c-64B' = @('--udp', '-c', '1', '-s', '64'); 'udp-100c-64B' = @('--udp', '-c', '100', '-s', '64'); 'udp-rate-20k' = @('--udp', '-c', '10', '-s', '64', '--rate', '20000')
}
$chosen = @($allWorkloads.Keys)
if ($Workloads) {
  $chosen = @($Workloads -split ' ' | Where-Object { $_ })
  foreach ($w in $chosen) { if (-not $allWorkloads.Contains($w)) { [Console]::Error.WriteLine("bench.ps1: unknown workload '$w' (see --help)"); exit 2 } }
}

# echo-load's arguments for a workload, without the port and the labels.
function Get-LoadArguments([string] $Workload) {
  $warm = if ($Workload -eq '10k-idle') { @() } else { @('--warmup', "$warmup") }
  return @($allWorkloads[$Workload]) + @('-d', "$duration") + $warm + @('--progress', '0')
}

# The exit codes of echo-load that count as a good run: 128 Python threads serve 128 of 1,000 clients, the others
# wait unanswered on purpose (4); open loop over UDP: loss (4) is a result, not a failure.
function Get-AcceptedCodes([string] $Name, [string] $Workload) { if (($Name -like 'py-*' -and $Workload -eq '1000c-1KiB') -or $Workload -eq 'udp-rate-20k') { @(0, 4) } else { @(0) } }

function Test-Pool([string] $Name) { $Name -like 'workers*' -or $Name -like 'executor*' }

# A pool of 128 Python threads cannot serve thousands of clients: it is not asked to. UDP: the pools and c-udp only; c-udp nothing else. TLS: the pools only; executor-uring plaintext TCP only.
function Test-Skipped([string] $Name, [string] $Workload) {
  ($Workload -like '10k-*' -and $Name -like 'py-*') -or ($Workload -eq '10k-active' -and $Name -like 'workers*') -or ($Workload -like 'tls-*' -and -not (Test-Pool $Name)) -or ($Workload -like 'udp-*' -and -not (Test-Pool $Name) -and $Name -ne 'c-udp') -or ($Name -eq 'c-udp' -and $Workload -notlike 'udp-*') -or ($Name -eq 'executor-uring' -and ($Workload -like 'udp-*' -or $Workload -like 'tls-*'))
}

# The runs in order (bench.sh's plan). One round: server by server. Several: round by round, workload by workload, the
# servers taking turns, so that the machine's drift falls on every server alike; each round starts the turns further
# down the list (round K at server (K-1)*N/ROUNDS of N), so that no server always runs last in a workload.
function Get-Plan {
  $names = @($Servers -split ' ' | Where-Object { $_ })
  $n = $names.Count
  if ($roundCount -eq 1) {
    foreach ($name in $names) { foreach ($workload in $chosen) { if (-not (Test-Skipped $name $workload)) { [pscustomobject]@{ Round = 1; Name = $name; Workload = $workload } } } }
  } else {
    foreach ($round in 1..$roundCount) {
      $offset = [Math]::Floor(($round - 1) * $n / $roundCount)
      foreach ($workload in $chosen) {
        foreach ($i in 0..($n - 1)) {
          $name = $names[($i + $offset) % $n]
          if (-not (Test-Skipped $name $workload)) { [pscustomobject]@{ Round = $round; Name = $name; Workload = $workload } }
        }
      }
    }
  }
}
$runs = @(Get-Plan)

# What keeps a round's files apart ('' with one round, as ever).
function Get-RunSuffix([int] $Round) { if ($roundCount -eq 1) { '' } else { "-round$Round" } }

if ($DryRun) {
  foreach ($run in $runs) {
    $name = $run.Name; $workload = $run.Workload
    $server = if (Test-Pool $name) { 'echo-server ' + ((Get-ServerOptions $name $workload) -join ' ') } elseif ($name -eq 'c-udp') { 'udp-echo' } else { "run-peer.sh $name" }
    $prefix = if ($roundCount -eq 1) { '' } else { "round $($run.Round) " }
    "${prefix}${name} ${workload}: $server | echo-load $((Get-LoadArguments $workload) -join ' ') | exit $((Get-AcceptedCodes $name $workload) -join ' ')"
  }
  exit 0
}

if (-not $Out) { $Out = Join-Path $RepoRoot ('results/bench-' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release
if ($Servers -match '-aot') {
  & (Join-Path $PSScriptRoot 'publish.ps1') -Out (Join-Path $Out 'publish') | Tee-Object (Join-Path $Out 'publish.txt')
  if ($LASTEXITCODE -ne 0) { exit 1 }
}
$udpEcho = Join-Path $Out 'udp-echo'
if ($Servers -split ' ' -contains 'c-udp') {
  & gcc -O2 -o $udpEcho (Join-Path $PSScriptRoot 'lib/udp-echo.c')
  if ($LASTEXITCODE -ne 0) { [Console]::Error.WriteLine('bench.ps1: c-udp needs gcc'); exit 1 }
}

function Get-FreePort {
  while ($true) {
    $port = Get-Random -Minimum 10000 -Maximum 30000 # below the ephemeral range, where clients' own ports live
    $probe = [Net.Sockets.TcpClient]::new()
    try { $probe.Connect('127.0.0.1', $port) } catch { return $port } finally { $probe.Dispose() }
  }
}

function Start-Subject([string] $Name, [string] $Workload, [string] $Suffix) {
  $log = Join-Path $Out "server-$Name-$Workload$Suffix.log"
  if ($Name -in 'workers', 'executor', 'executor-threadpool', 'executor-uring', 'workers-aot', 'executor-aot') {
    $opts = Get-ServerOptions $Name $Workload
    $exe = if ($Name -like '*-aot') { Join-Path $Out ('publish/echo-server' + $(if ($env:OS -eq 'Windows_NT') { '.exe' } else { '' })) } else { '' }
    return Start-EchoServer $log $opts $exe
  }
  $port = Get-FreePort
  if ($Name -eq 'c-udp') {
    $process = Start-Process $udpEcho -ArgumentList @("$port") -RedirectStandardOutput $log -RedirectStandardError "$log.stderr" -PassThru -NoNewWindow
    $hex = ':{0:X4} ' -f $port
    for ($i = 0; $i -lt 100; $i++) {
      if ((Get-Content /proc/net/udp -Raw) -match [regex]::Escape($hex)) { return @{ Process = $process; Port = $port; Log = $log } }
      if ($process.HasExited) { break }
      Start-Sleep -Milliseconds 100
    }
    [Console]::Error.WriteLine("bench.ps1: c-udp did not start; see $log")
    exit 1
  }
  $process = Start-Process bash -ArgumentList @((Join-Path $peersDir 'run-peer.sh'), $Name, "$port") -RedirectStandardOutput $log -RedirectStandardError "$log.stderr" -PassThru -NoNewWindow
  for ($i = 0; $i -lt 1200; $i++) {
    $probe = [Net.Sockets.TcpClient]::new()
    try { $probe.Connect('127.0.0.1', $port); return @{ Process = $process; Port = $port; Log = $log } } catch { } finally { $probe.Dispose() }
    if ($process.HasExited) { break }
    Start-Sleep -Milliseconds 100
  }
  [Console]::Error.WriteLine("bench.ps1: reference server $Name did not start; see $log")
  exit 1
}

$failed = @()
foreach ($run in $runs) {
  $name = $run.Name; $workload = $run.Workload; $suffix = Get-RunSuffix $run.Round
  if ($roundCount -gt 1) { [Console]::Error.WriteLine("round $($run.Round) of ${roundCount}: $name $workload") }
  $server = Start-Subject $name $workload $suffix
  try {
    $text = & dotnet $LoadDll --port $server.Port @(Get-LoadArguments $workload) --server-pid $server.Process.Id `
      --label "server=$name" --label "workload=$workload" --label "round=$($run.Round)" --json (Join-Path $Out "$name-$workload$suffix.json")
    if ($LASTEXITCODE -notin (Get-AcceptedCodes $name $workload)) { $failed += "$name $workload$($suffix -replace '-round', ' round ') (exit $LASTEXITCODE)" }
    $text | Where-Object { $_ -match '^echo-load|msg/s\)|connections  |held|server |client |unanswered|datagrams |latency|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
  } finally {
    Stop-EchoServer $server
  }
}

"machine: $([Environment]::ProcessorCount) cores, $([Environment]::OSVersion); dotnet $(& dotnet --version)" | Tee-Object (Join-Path $Out 'machine.txt')
& dotnet $LoadDll compare $Out --title "echo servers ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)"
Write-Output "results: $Out (bench.md, throughput.png/.svg, latency.png/.svg, memory.png/.svg, one JSON per run, server logs)"
if ($failed.Count -gt 0) { [Console]::Error.WriteLine("bench.ps1: runs that failed: $($failed -join '; ')"); exit 1 }
