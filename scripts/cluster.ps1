# Twin of cluster.sh: runs N echo-server instances behind HAProxy on loopback, drives echo-load through the
# balancer, and prints how many connections each instance served and the aggregate; stops everything it started.
#   scripts/cluster.ps1 [-Instances N] [-Mode echo|connect] [-Connections C] [-Duration SECONDS] [-Pool executor|workers] [-Out DIR]
# N instances (default 2) on free ports, each with --admin-port (HAProxy checks GET /ready there) and
# --drain-delay 3s. HAProxy's settings come from scripts/deploy/haproxy.cfg (everything above its server lines).
# Defaults: -Mode echo, -Connections 50, -Duration 5. Needs haproxy (Debian: apt-get install haproxy).
# All load goes to 127.0.0.1.
param([int] $Instances = 2, [string] $Mode = 'echo', [int] $Connections = 50, [double] $Duration = 5, [string] $Pool = 'executor', [string] $Out = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @(@($Mode, $Pool, $Out) | Where-Object { $_ -like '-*' }))

if (-not (Get-Command haproxy -ErrorAction SilentlyContinue)) {
  [Console]::Error.WriteLine("cluster.ps1: 'haproxy' is not on PATH; install it (Debian/Ubuntu: apt-get install haproxy).")
  exit 127
}

if (-not $Out) { $Out = Join-Path ([IO.Path]::GetTempPath()) ("echo-cluster-" + [Guid]::NewGuid().ToString('N')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release

# The body of a GET on 127.0.0.1.
function Get-Http([int] $Port, [string] $Path) {
  $client = [Net.Http.HttpClient]::new()
  try { return $client.GetStringAsync("http://127.0.0.1:$Port$Path").GetAwaiter().GetResult() } finally { $client.Dispose() }
}

$servers = @(); $haproxy = $null
try {
  for ($i = 1; $i -le $Instances; $i++) {
    $log = Join-Path $Out "instance-$i.log"
    $server = Start-EchoServer $log @('--admin-port', '0', '--pool', $Pool, '--drain-delay', '3s', '--log-level', 'Warning', '--pid-file', (Join-Path $Out "instance-$i.pid"))
    $admin = $null
    for ($t = 0; $t -lt 100 -and -not $admin; $t++) {
      $match = Select-String -Path $log -Pattern 'Admin endpoint on http://\S+:(\d+)' | Select-Object -First 1
      if ($match) { $admin = [int]$match.Matches[0].Groups[1].Value } else { Start-Sleep -Milliseconds 100 }
    }
    if (-not $admin) { [Console]::Error.WriteLine("cluster.ps1: instance $i did not start its admin endpoint; its log: $log"); exit 1 }
    $server.Admin = $admin
    $servers += $server
    [Console]::Error.WriteLine("instance ${i}: pid $($server.Process.Id), echo port $($server.Port), admin port $admin")
  }

  # HAProxy: the shipped settings, bound to a free loopback port below the ephemeral range, one server line per instance.
  $cfg = Join-Path $Out 'haproxy.cfg'
  $haproxyLog = Join-Path $Out 'haproxy.log'
  $shipped = Get-Content (Join-Path $RepoRoot 'scripts/deploy/haproxy.cfg')
  for ($attempt = 1; $attempt -le 5; $attempt++) {
    $front = Get-Random -Minimum 20000 -Maximum 32000
    $lines = foreach ($line in $shipped) {
      if ($line -match '^\s*server ') { break }
      if ($line -match '^(\s*)bind ') { "$($Matches[1])bind 127.0.0.1:$front" }
      elseif ($line -match '^(\s*)maxconn ') { "$($Matches[1])maxconn 4096" }
      else { $line }
    }
    $lines += $(for ($i = 0; $i -lt $servers.Count; $i++) { "    server echo$($i + 1) 127.0.0.1:$($servers[$i].Port) port $($servers[$i].Admin)" })
    Set-Content -Path $cfg -Value $lines
    $haproxy = Start-Process haproxy -ArgumentList @('-f', $cfg, '-db') -RedirectStandardOutput $haproxyLog -RedirectStandardError "$haproxyLog.stderr" -PassThru -NoNewWindow
    # Two health checks (rise 2, inter 1s) put every instance in rotation; no probe connection (it would be counted).
    Start-Sleep -Milliseconds 2500
    if (-not $haproxy.HasExited) { break }
    $haproxy = $null
    $failure = Get-Content $haproxyLog, "$haproxyLog.stderr" -ErrorAction SilentlyContinue
    if (($failure -match 'Address already in use') -and $attempt -lt 5) { continue }
    [Console]::Error.WriteLine('cluster.ps1: haproxy did not start:'); $failure | ForEach-Object { [Console]::Error.WriteLine($_) }
    exit 1
  }
  [Console]::Error.WriteLine("haproxy on 127.0.0.1:$front in front of $Instances instances; echo-load --mode $Mode -c $Connections -d $Duration")

  $report = & dotnet $LoadDll --port $front --mode $Mode -c $Connections -d $Duration --progress 0 --json (Join-Path $Out 'load.json')
  $rc = $LASTEXITCODE
  $report | ForEach-Object { $_ }
  ''
  $total = 0
  for ($i = 0; $i -lt $servers.Count; $i++) {
    $accepted = [long]([regex]::Match((Get-Http $servers[$i].Admin '/snapshot'), 'accepted=(\d+)').Groups[1].Value)
    $total += $accepted
    "instance $($i + 1) (port $($servers[$i].Port)): $accepted connections"
  }
  $messages = ($report | Where-Object { $_ -match '^\s+messages' } | Select-Object -First 1) -replace '^\s*messages\s*', ''
  "all $Instances instances: $total connections; $messages through the balancer"
  [Console]::Error.WriteLine("logs and reports: $Out")
  exit $rc
} finally {
  if ($haproxy -and -not $haproxy.HasExited) { $haproxy.Kill(); $haproxy.WaitForExit() }
  foreach ($server in $servers) { Stop-EchoServer $server }
}
