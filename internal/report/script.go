package report

// script draws the zoomable charts (timeline, latency quantiles,
// throughput) from the page's JSON data, and handles zooming: drag across
// any chart or the whole-run strip, the buttons, ctrl+wheel, double-click
// to see the whole run, and a click on a witness number to zoom on it.
// Witness badges are laid out as layoutBadges does. With more than
// maxIndividual operations in view, operations narrower than 3 pixels are
// drawn as per-lane 2-pixel bins coloured by their worst outcome.
const script = `
(function(){
'use strict';
var dataEl=document.getElementById('fl-data');
if(!dataEl)return;
var D=JSON.parse(dataEl.textContent);
var NS='http://www.w3.org/2000/svg';
var W=1360,X0=96,X1=W-18,PW=X1-X0;
var maxIndividual=4000, maxDots=6000;
var O=D.ops,n=O.l.length,errOf={};
O.e.forEach(function(p){errOf[p[0]]=O.errs[p[1]];});
var call=new Array(n),end=new Array(n),uc=new Array(n),ue=new Array(n);
var segs=D.segs;
function u(t){for(var i=0;i<segs.length;i++){var s=segs[i];if(t<=s.t1){if(t<s.t0)return i===0?s.u0:(segs[i-1].u1+s.u0)/2;return s.u0+(t-s.t0)/Math.max(1,s.t1-s.t0)*(s.u1-s.u0);}}return segs[segs.length-1].u1;}
function segOfU(x){for(var i=0;i<segs.length;i++){if(x<=segs[i].u1)return i;}return segs.length-1;}
function tOf(x){var s=segs[segOfU(x)];x=Math.max(s.u0,Math.min(s.u1,x));return s.t0+(x-s.u0)/Math.max(1e-12,s.u1-s.u0)*(s.t1-s.t0);}
(function(){var t=0;for(var i=0;i<n;i++){t+=O.c[i];call[i]=t;end[i]=O.d[i]<0?-1:t+O.d[i];uc[i]=u(t);
 ue[i]=end[i]<0?(uc[i]>D.openEnd?D.openEndFinal:D.openEnd):u(end[i]);}})();
var va=0,vb=1,keyF=-1,hl=-1;
function X(x){return X0+(x-va)/(vb-va)*PW;}
function mk(tag,a,p){var e=document.createElementNS(NS,tag);for(var k in a)e.setAttribute(k,a[k]);if(p)p.appendChild(e);return e;}
function tx(tag,a,s,p){var e=mk(tag,a,p);e.textContent=s;return e;}
function f1(v){return (Math.round(v*10)/10).toString();}
function trim(v){if(v===0)return '0';var d=Math.min(20,Math.max(0,3-Math.floor(Math.log10(Math.abs(v)))));var s=v.toFixed(d);if(s.indexOf('.')>=0)s=s.replace(/0+$/,'').replace(/\.$/,'');return s;}
function fd(ns){if(ns===0)return '0';var a=Math.abs(ns);if(a<1e3)return Math.round(ns)+'ns';if(a<1e6)return trim(ns/1e3)+'µs';if(a<1e9)return trim(ns/1e6)+'ms';return trim(ns/1e9)+'s';}
function niceStep(d){if(d<1)return 1;var p=1;while(p*10<=d)p*=10;var m=[1,2,5,10];for(var i=0;i<4;i++)if(p*m[i]>=d)return p*m[i];return p*10;}
var kindName={r:'read',w:'write',c:'cas',a:'add',d:'delete'},outName={o:'ok',f:'fail',i:'info'};
function isRead(i){var k=O.k.charAt(i);return k==='r'||k==='R';}
function isFinal(i){var k=O.k.charAt(i);return k!==k.toLowerCase();}
function cls(i){var o=O.o.charAt(i);if(o==='o')return 'ok';if(o==='f')return 'fail';return end[i]<0?'open':'info';}
function opText(i){var k=O.k.charAt(i).toLowerCase();var s=D.lanes[O.l[i]].split(' ')[0]+' '+kindName[k]+' '+JSON.stringify(D.keys[O.key[i]]);
 if(O.v[i])s+=' '+(k==='r'||k==='c'?O.v[i]:JSON.stringify(O.v[i]));s+=' '+outName[O.o.charAt(i)];if(isFinal(i))s+=' (final)';
 s+=' ['+fd(call[i])+', '+(end[i]<0?'?':fd(end[i]))+']';s+=end[i]<0?' never completed':' latency '+fd(end[i]-call[i]);
 if(errOf[i])s+=' — '+errOf[i];if(O.n)s+=' · node '+O.nodes[O.n[i]];return s;}
function visible(i){return (keyF<0||O.key[i]===keyF)&&ue[i]>=va&&uc[i]<=vb;}
function clear(e){while(e.firstChild)e.removeChild(e.firstChild);}
function winX(w){var a=X(u(w.s)),b=w.e<0?X(D.openEnd):X(u(w.e));return [a,Math.max(b,a+1.5)];}
function layoutBadges(items){var ends=[],out=[];
 items.forEach(function(it){var w=8+6.4*String(it.n).length;var left=Math.max(X0,Math.min(it.x-w/2,X1-w));var row=-1,r;
  for(r=0;r<ends.length;r++){if(ends[r]+3<=left){row=r;break;}}
  if(row<0&&ends.length>=3){var f=0;for(r=0;r<ends.length;r++)if(ends[r]<ends[f])f=r;if(ends[f]+3+w<=X1){row=f;left=ends[f]+3;}}
  if(row<0){row=ends.length;ends.push(0);}ends[row]=left+w;out.push({n:it.n,i:it.i,x:it.x,left:left,w:w,row:row,m:it.m});});
 return out;}
function overlaps(bs){var c=0;for(var i=0;i<bs.length;i++)for(var j=i+1;j<bs.length;j++){var a=bs[i],b=bs[j];if(a.row===b.row&&a.left<b.left+b.w&&b.left<a.left+a.w)c++;}return c;}
function drawAxis(svg,y){
 for(var si=0;si<segs.length;si++){var s=segs[si];var ua=Math.max(va,s.u0),ub=Math.min(vb,s.u1);if(ub<=ua)continue;
  mk('line',{'class':'axis',x1:f1(X(ua)),y1:y,x2:f1(X(ub)),y2:y},svg);
  var ta=tOf(ua),tb=tOf(ub),px=X(ub)-X(ua),cnt=Math.max(1,Math.floor(px/110));var step=niceStep((tb-ta)/cnt);
  var t=si===0?Math.ceil(ta/step)*step:s.t0+Math.max(0,Math.ceil((ta-s.t0)/step))*step;
  for(;t<=tb+1e-6;t+=step){var x=X(u(t));if(x<X0-1||x>X1+1)continue;
   var lab=si===0||t===s.t0?fd(t):'+'+fd(t-s.t0);mk('line',{'class':'axis',x1:f1(x),y1:y,x2:f1(x),y2:y+4},svg);tx('text',{'class':'tick',x:f1(x),y:y+15},lab,svg);}}
}
function clipDefs(svg,id,h){var d=mk('defs',{},svg);var c=mk('clipPath',{id:id},d);mk('rect',{x:X0,y:0,width:PW,height:h},c);}
function shade(g,top,h){D.wins.forEach(function(w){var x=winX(w);mk('rect',{x:f1(x[0]),y:top,width:f1(x[1]-x[0]),height:h,fill:D.fams[w.f].color,opacity:'0.13'},g);});}
function breaks(g,top,h){for(var k=1;k<segs.length;k++){var a=X(segs[k-1].u1),b=X(segs[k].u0);if(b<X0||a>X1)continue;
 mk('rect',{'class':'brk',x:f1(a+4),y:top,width:f1(Math.max(0,b-a-8)),height:h},g);
 var gx=(a+b)/2,gy=top+h/2;tx('text',{'class':'brkl',x:f1(gx),y:f1(gy),transform:'rotate(-90 '+f1(gx)+' '+f1(gy)+')'},'settle · '+fd(segs[k].t0-segs[k-1].t1),g);}}

var tl=document.getElementById('timeline');
function renderTimeline(){
 clear(tl);var L=D.lanes.length,laneH=16;
 var items=[];D.marks.forEach(function(m){if(m.op>=0&&visible(m.op))items.push({n:m.n,i:m.op,x:X(uc[m.op]),m:m});});
 items.sort(function(a,b){return a.x-b.x||a.n-b.n;});
 var bs=layoutBadges(items),rows=0;bs.forEach(function(b){rows=Math.max(rows,b.row+1);});
 var top=6,winTop=top+rows*16+(rows?6:0),lanesTop=winTop+Math.max(D.winRows,1)*17+8,lanesBottom=lanesTop+L*laneH,H=lanesBottom+30;
 tl.setAttribute('viewBox','0 0 '+W+' '+H);
 clipDefs(tl,'tlclip',H);
 for(var li=0;li<L;li++){var y=lanesTop+li*laneH;if(li%2===0)mk('rect',{'class':'stripe',x:X0,y:y,width:PW,height:laneH},tl);
  tx('text',{'class':'lane',x:X0-6,y:y+laneH-4},D.lanes[li],tl);}
 tx('text',{'class':'lane',x:X0-6,y:winTop+12},'nemesis',tl);
 if(rows)tx('text',{'class':'lane',x:X0-6,y:top+11},'witnesses',tl);
 var g=mk('g',{'clip-path':'url(#tlclip)'},tl);
 shade(g,lanesTop,lanesBottom-lanesTop);
 D.wins.forEach(function(w){var x=winX(w),y=winTop+w.r*17;var wg=mk('g',{'class':'win'},g);
  tx('title',{},w.l+'\n'+fd(w.s)+' → '+(w.e<0?'never undone':fd(w.e)),wg);
  mk('rect',{x:f1(x[0]),y:y,width:f1(x[1]-x[0]),height:14,rx:2,fill:D.fams[w.f].color,opacity:'0.85'},wg);
  var lx=Math.max(x[0],X0)+3,room=Math.min(x[1],X1)-lx-3,chars=Math.floor(room/6.2);
  if(chars>=3){var lab=w.l.length<=chars?w.l:w.l.slice(0,chars-1)+'…';tx('text',{'class':'wl',x:f1(lx),y:y+10.5},lab,wg);}});
 breaks(g,lanesTop-4,lanesBottom-lanesTop+8);
 if(D.settle>=0){var sx=X(u(D.settle));if(sx>=X0&&sx<=X1){var sl=mk('line',{'class':'settle',x1:f1(sx),y1:winTop-4,x2:f1(sx),y2:lanesBottom},tl);
  tx('title',{},'settle phase begins at '+fd(D.settle),sl);tx('text',{'class':'settlel',x:f1(sx+3),y:winTop+Math.max(D.winRows,1)*17+4},'settle',tl);}}
 var inView=0;for(var i=0;i<n;i++)if(visible(i))inView++;
 var drawAll=inView<=maxIndividual,bins={},shown=0;
 var og=mk('g',{},g);
 for(i=0;i<n;i++){if(!visible(i))continue;var xa=Math.max(X(uc[i]),X0-3),xb=Math.min(Math.max(X(ue[i]),X(uc[i])+1.2),X1+3);
  var r=isRead(i),y0=lanesTop+O.l[i]*laneH+(r?8.5:1.5),c=cls(i);
  if(drawAll||xb-xa>=3){var e=mk('rect',{'class':'op '+(r?'r ':'w ')+c,x:f1(xa),y:y0,width:f1(xb-xa),height:6,'data-i':i},og);shown++;
   if(i===hl)e.classList.add('hl');continue;}
  var col=Math.floor((xa-X0)/2),key=(O.l[i]*2+(r?1:0))+':'+col;var bn=bins[key];
  if(!bn){bn=bins[key]={l:O.l[i],r:r,col:col,ok:0,fail:0,info:0,open:0};}bn[c]++;}
 var bkeys=Object.keys(bins).sort();
 bkeys.forEach(function(k){var bn=bins[k],worst=bn.fail?'fail':bn.open?'open':bn.info?'info':'ok',tot=bn.ok+bn.fail+bn.info+bn.open;
  var e=mk('rect',{'class':'op agg '+(bn.r?'r ':'w ')+worst,x:f1(X0+bn.col*2),y:lanesTop+bn.l*laneH+(bn.r?8.5:1.5),width:2,height:6},og);
  tx('title',{},tot+' '+(bn.r?'reads':'writes')+': '+bn.ok+' ok, '+bn.fail+' fail, '+bn.info+' info, '+bn.open+' never completed',e);});
 var wg=mk('g',{},g);
 bs.forEach(function(b){var i=b.i,xa=X(uc[i]),xb=Math.max(X(ue[i]),xa+1.2),r=isRead(i),y0=lanesTop+O.l[i]*laneH+(r?8.5:1.5);
  mk('rect',{'class':'wbox'+(i===hl?' hl':''),x:f1(xa-2),y:f1(y0-2),width:f1(xb-xa+4),height:10},wg);});
 bs.forEach(function(b){var i=b.i,y=top+b.row*16,r=isRead(i),y0=lanesTop+O.l[i]*laneH+(r?8.5:1.5);
  var bg=mk('g',{'class':'wb','data-w':b.n},tl);tx('title',{},'witness '+b.n+' ('+b.m.ch+'): '+b.m.t+'\n'+opText(i)+'\nclick to zoom on it',bg);
  mk('line',{'class':'lead',x1:f1(b.left+b.w/2),y1:y+14,x2:f1(b.x),y2:f1(y0-2)},bg);
  mk('rect',{'class':'wbox',x:f1(b.left),y:y,width:f1(b.w),height:14,rx:7,style:'fill:'+b.m.c+';stroke:'+b.m.c},bg);
  tx('text',{'class':'wnum',x:f1(b.left+b.w/2),y:y+10.5},String(b.n),bg);});
 drawAxis(tl,lanesBottom);
 tl.setAttribute('data-badges',bs.length);tl.setAttribute('data-badge-overlaps',overlaps(bs));
 tl.setAttribute('data-ops-drawn',shown);tl.setAttribute('data-bins',bkeys.length);
 return inView;
}
// perf returns the latency quantiles and completions of the view: the
// page's precomputed series for the whole run, recomputed from the
// operations when zoomed or filtered (unless the page is sampled).
function perf(){
 var P=D.perf;if(D.sampled||(va<=0&&vb>=1&&keyF<0))return P;
 var ta=Math.max(0,tOf(Math.max(va,segs[0].u0))),tb=tOf(Math.min(vb,segs[0].u1));
 if(vb<=segs[0].u0||va>=segs[0].u1||tb<=ta)return null;
 var cnt=0,i;for(i=0;i<n;i++){if(!isFinal(i)&&end[i]>=ta&&call[i]<=tb&&(keyF<0||O.key[i]===keyF))cnt++;}
 var N=Math.max(12,Math.min(120,Math.floor(cnt/25))),step=Math.max(1,Math.ceil((tb-ta)/N)),lat=[],done=[[[],[],[]],[[],[],[]]],g,o,b;
 function bucket(t){if(t<ta||t>tb)return -1;return Math.min(N-1,Math.floor((t-ta)/step));}
 for(b=0;b<N;b++){lat.push([[],[]]);for(g=0;g<2;g++)for(o=0;o<3;o++)done[g][o].push(0);}
 for(i=0;i<n;i++){if(isFinal(i)||end[i]<0||(keyF>=0&&O.key[i]!==keyF))continue;g=isRead(i)?0:1;
  b=bucket(end[i]);var oi={o:0,f:1,i:2}[O.o.charAt(i)];if(b>=0)done[g][oi][b]++;
  if(oi!==0)continue;b=bucket(call[i]);if(b>=0)lat[b][g].push(end[i]-call[i]);}
 var qs=[0.5,0.95,0.99,1],L=[[[],[],[],[]],[[],[],[],[]]];
 for(b=0;b<N;b++)for(g=0;g<2;g++){var a=lat[b][g].sort(function(x,y){return x-y;});
  for(var q=0;q<4;q++)L[g][q].push(a.length?a[Math.max(0,Math.min(a.length-1,Math.ceil(qs[q]*a.length-1e-9)-1))]:-1);}
 return {t0:ta,step:step,n:N,lat:L,done:done};
}
var qColor=['#1f77b4','#ff7f0e','#d62728','#555'],qName=['p50','p95','p99','max'];
function stepPath(P,vals,yf){var d='',pen=false;for(var b=0;b<P.n;b++){var v=vals[b];if(v<0){pen=false;continue;}
 var xa=X(u(P.t0+b*P.step)),xb=X(u(P.t0+(b+1)*P.step)),y=f1(yf(v));d+=(pen?'L':'M')+f1(xa)+' '+y+'L'+f1(xb)+' '+y;pen=true;}return d;}
var lt=document.getElementById('latency');
function renderLatency(P){
 clear(lt);var panel=150,gap=26,H=2*panel+gap+30;lt.setAttribute('viewBox','0 0 '+W+' '+H);clipDefs(lt,'ltclip',H);
 var lo=Infinity,hi=0,g,q,b;
 if(P)for(g=0;g<2;g++)for(q=0;q<4;q++)for(b=0;b<P.n;b++){var v=P.lat[g][q][b];if(v>=0){lo=Math.min(lo,Math.max(v,1000));hi=Math.max(hi,Math.max(v,1000));}}
 var dots=[],cnt=0,i;for(i=0;i<n;i++){if(visible(i)&&end[i]>=0&&!isFinal(i)){cnt++;}}
 if(cnt<=maxDots)for(i=0;i<n;i++){if(visible(i)&&end[i]>=0&&!isFinal(i)){var dd=Math.max(end[i]-call[i],1000);dots.push(i);lo=Math.min(lo,dd);hi=Math.max(hi,dd);}}
 if(!(hi>0)){lt.setAttribute('viewBox','0 0 '+W+' 40');tx('text',{'class':'tick',x:W/2,y:24},'no completed operation in view',lt);return;}
 var dlo=Math.pow(10,Math.floor(Math.log10(lo))),dhi=Math.pow(10,Math.ceil(Math.log10(hi)));if(dhi<=dlo)dhi=dlo*10;
 [['writes',1,0],['reads',0,panel+gap]].forEach(function(pn){var name=pn[0],gi=pn[1],top=pn[2]+22,bottom=pn[2]+panel;
  var yf=function(v){v=Math.max(v,1000);return bottom-(Math.log10(v)-Math.log10(dlo))/(Math.log10(dhi)-Math.log10(dlo))*(bottom-top);};
  tx('text',{'class':'ptitle',x:X0,y:top-8},name+' (ok operations)',lt);
  var decades=Math.round(Math.log10(dhi/dlo));
  for(var dec=dlo;dec<=dhi*1.0001;dec*=10)[1,2,5].forEach(function(m){var vv=dec*m;if(vv>dhi*1.0001)return;var yy=f1(yf(vv));
   mk('line',{'class':m===1?'grid major':'grid',x1:X0,y1:yy,x2:X1,y2:yy},lt);if(m===1||decades<=2)tx('text',{'class':'lane',x:X0-6,y:+yy+4},fd(vv),lt);});
  var gg=mk('g',{'clip-path':'url(#ltclip)'},lt);shade(gg,top,bottom-top);breaks(gg,top,bottom-top);
  dots.forEach(function(i){if((isRead(i)?0:1)!==gi)return;var c=mk('circle',{'class':'pt '+cls(i),cx:f1(X(uc[i])),cy:f1(yf(end[i]-call[i])),r:dots.length>1500?'1.6':'2.6'},gg);tx('title',{},opText(i),c);});
  if(P)for(var q=3;q>=0;q--){var d=stepPath(P,P.lat[gi][q],yf);if(d)mk('path',{'class':'q q'+q,d:d,stroke:qColor[q]},gg);}
  mk('line',{'class':'axis',x1:X0,y1:bottom,x2:X1,y2:bottom},lt);});
 drawAxis(lt,2*panel+gap);lt.setAttribute('data-dots',dots.length);
}
var tp=document.getElementById('throughput');
var rateSeries=[['writes ok',1,[0],'#1b7a3a',''],['reads ok',0,[0],'#5fc27e','5 3'],['fail',-1,[1],'#d64545',''],['info',-1,[2],'#e6a100','']];
function renderThroughput(P){
 clear(tp);var top=10,bottom=170,H=bottom+30;tp.setAttribute('viewBox','0 0 '+W+' '+H);clipDefs(tp,'tpclip',H);
 if(!P){tp.setAttribute('viewBox','0 0 '+W+' 40');tx('text',{'class':'tick',x:W/2,y:24},'no workload in view',tp);return;}
 var sec=P.step/1e9,series=rateSeries.map(function(s){var out=[];for(var b=0;b<P.n;b++){var c=0;for(var g=0;g<2;g++){if(s[1]>=0&&g!==s[1])continue;s[2].forEach(function(o){c+=P.done[g][o][b];});}out.push(c/sec);}return out;});
 var hi=0;series.forEach(function(s){s.forEach(function(v){hi=Math.max(hi,v);});});if(hi<=0)hi=1;
 var st=niceStep(hi/4),ymax=Math.ceil(hi/st)*st;var yf=function(v){return bottom-v/ymax*(bottom-top);};
 for(var v=0;v<=ymax+1e-9;v+=st){var yy=f1(yf(v));mk('line',{'class':v===0?'grid major':'grid',x1:X0,y1:yy,x2:X1,y2:yy},tp);tx('text',{'class':'lane',x:X0-6,y:+yy+4},trim(v)+'/s',tp);}
 var gg=mk('g',{'clip-path':'url(#tpclip)'},tp);shade(gg,top,bottom-top);breaks(gg,top,bottom-top);
 series.forEach(function(s,k){var vals=s.map(function(x,b){return (x>0||rateSeries[k][2][0]===0)?x:(s[b-1]>0||s[b+1]>0?0:-1);});var d=stepPath(P,vals,yf);
  if(d)mk('path',{'class':'rate','d':d,stroke:rateSeries[k][3],'stroke-dasharray':rateSeries[k][4]},gg);});
 drawAxis(tp,bottom);
}
var range=document.getElementById('zrange'),brush=document.getElementById('ovbrush');
function render(){var inView=renderTimeline();var P=perf();renderLatency(P);renderThroughput(P);
 if(brush){brush.setAttribute('x',f1(X0+va*PW));brush.setAttribute('width',f1(Math.max(3,(vb-va)*PW)));}
 if(range){var s='showing '+fd(tOf(va))+' – '+fd(tOf(vb))+' · '+inView+' operations in view';
  if(keyF>=0)s+=' (key '+JSON.stringify(D.keys[keyF])+' only)';if(va>0||vb<1)s+=' · double-click a chart for the whole run';range.textContent=s;}}
function zoom(a,b){var minSpan=1e-5;if(b-a<minSpan){var c=(a+b)/2;a=c-minSpan/2;b=c+minSpan/2;}
 if(a<0){b-=a;a=0;}if(b>1){a-=b-1;b=1;}va=Math.max(0,a);vb=Math.min(1,b);render();
 try{history.replaceState(null,'',va<=0&&vb>=1?location.pathname:'#u='+va.toFixed(6)+','+vb.toFixed(6));}catch(e){}}
function zoomOn(i){var span=Math.max((ue[i]-uc[i])*12,0.002);var c=(uc[i]+ue[i])/2;hl=i;zoom(c-span/2,c+span/2);}
function svgX(svg,ev){var r=svg.getBoundingClientRect();return (ev.clientX-r.left)/r.width*W;}
function brushable(svg,full){if(!svg)return;var startX=null,sel=null;
 svg.addEventListener('mousedown',function(ev){if(ev.button!==0)return;if(ev.target.closest&&ev.target.closest('.wb'))return;startX=svgX(svg,ev);ev.preventDefault();});
 window.addEventListener('mousemove',function(ev){if(startX===null)return;var x=svgX(svg,ev);var h=svg.viewBox.baseVal.height;
  if(!sel)sel=mk('rect',{'class':'sel',y:0,height:h},svg);sel.setAttribute('x',f1(Math.min(x,startX)));sel.setAttribute('width',f1(Math.abs(x-startX)));});
 window.addEventListener('mouseup',function(ev){if(startX===null)return;var x=svgX(svg,ev),a=Math.min(x,startX),b=Math.max(x,startX);startX=null;
  if(sel){sel.remove();sel=null;}
  if(b-a<4){if(full){var c=(Math.max(X0,Math.min(X1,x))-X0)/PW,s=vb-va;zoom(c-s/2,c+s/2);}return;}
  var ua=full?(a-X0)/PW:va+(a-X0)/PW*(vb-va),ub=full?(b-X0)/PW:va+(b-X0)/PW*(vb-va);zoom(Math.max(0,ua),Math.min(1,ub));});
 svg.addEventListener('dblclick',function(){hl=-1;zoom(0,1);});
 svg.addEventListener('wheel',function(ev){if(!ev.ctrlKey&&!ev.metaKey)return;ev.preventDefault();var x=svgX(svg,ev);
  var c=full?(x-X0)/PW:va+(x-X0)/PW*(vb-va),f=ev.deltaY<0?0.7:1/0.7;zoom(c-(c-va)*f,c+(vb-c)*f);},{passive:false});}
[tl,lt,tp].forEach(function(s){brushable(s,false);});brushable(document.getElementById('overview'),true);
document.querySelectorAll('[data-z]').forEach(function(bt){bt.addEventListener('click',function(){var z=bt.getAttribute('data-z'),s=vb-va,c=(va+vb)/2;
 if(z==='in')zoom(c-s/4,c+s/4);else if(z==='out')zoom(c-s,c+s);else if(z==='left')zoom(va-s/2,vb-s/2);else if(z==='right')zoom(va+s/2,vb+s/2);else{hl=-1;zoom(0,1);}});});
document.addEventListener('click',function(ev){var t=ev.target.closest&&ev.target.closest('[data-w]');if(!t)return;var w=+t.getAttribute('data-w');
 D.marks.forEach(function(m){if(m.n===w&&m.op>=0){ev.preventDefault();zoomOn(m.op);document.getElementById('timeline').scrollIntoView({block:'nearest'});}});});
var sel=document.getElementById('keyf');if(sel)sel.addEventListener('change',function(){keyF=sel.value===''?-1:+sel.value;render();});
// The address can name a view: #w=N zooms on witness N, #u=A,B shows the
// axis positions A to B of [0, 1]; zooming keeps the address up to date.
function fromHash(){var h=location.hash,m;
 if((m=/^#w=(\d+)$/.exec(h))){var w=+m[1],done=false;D.marks.forEach(function(mk){if(mk.n===w&&mk.op>=0&&!done){done=true;zoomOn(mk.op);}});if(done)return;}
 if((m=/^#u=([0-9.]+),([0-9.]+)$/.exec(h))&&+m[1]<+m[2]){zoom(+m[1],+m[2]);return;}
 render();}
fromHash();
window.addEventListener('hashchange',fromHash);
})();
`

// css styles the page.
const css = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
header{padding:18px 28px 14px;color:#fff;background:#2e7d4f}
header.c-correctness{background:#b3261e}header.c-liveness{background:#b26a00}header.c-crash{background:#5b1a6e}header.c-unknown{background:#6b7280}
h1{margin:0;font-size:22px;font-weight:650}h1 .seed{font-weight:400;opacity:.85}
header .class{font-size:15px;margin-top:2px;opacity:.95}
header .failure{margin:8px 0 0;font-size:13px;max-width:1300px;word-break:break-word}
header .repro{margin:8px 0 0}header code{background:rgba(0,0,0,.25);padding:2px 7px;border-radius:4px;font-size:13px}
main{padding:8px 28px 20px;max-width:1460px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 18px;margin:14px 0}
h2{font-size:17px;margin:2px 0 10px}h3{font-size:14px;margin:14px 0 6px;color:#444}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #eceef2}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#667}
td.name{font-weight:600;white-space:nowrap}
td.unmet{color:#b3261e;font-weight:700}td.met{color:#555}
td.met,td.unmet{white-space:nowrap}
td.num{font-family:ui-monospace,Menlo,Consolas,monospace;text-align:right}
a.wlink{font-size:12.5px;white-space:nowrap;color:#1a56b0}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:650;font-size:12px;color:#fff}
.v-valid{background:#2e9d4f}.v-invalid{background:#d64545}.v-unknown{background:#8a8f98}
table.witness{margin:4px 0 10px;font-size:12.5px}table.witness td,table.witness th{padding:3px 6px}
.wmark{display:inline-block;min-width:22px;text-align:center;background:#111;color:#fff;border-radius:9px;font-size:11px;font-weight:700;text-decoration:none;padding:0 4px}
a.wmark:hover{background:#1a56b0!important}
.wmark.off{background:#8a8f98}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;margin-bottom:6px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:16px;height:10px;border-radius:2px}
.sw.ok{background:#2e9d4f}.sw.fail{background:#d64545}.sw.info{background:#e6a100}
.sw.open{background:repeating-linear-gradient(45deg,#e6a100 0 2px,#fff 2px 4px);outline:1px dashed #b07a00}
.sw.wit{background:#fff;outline:2px solid #111}
.sw.w{background:linear-gradient(#2e9d4f 0 50%,transparent 50%);outline:1px solid #ccd}.sw.r{background:linear-gradient(transparent 50%,#9fd8b0 50%);outline:1px solid #ccd}
.sw.line{height:3px;border-radius:0}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin:4px 0 6px;font-size:12.5px}
.controls button{font:inherit;padding:2px 9px;border:1px solid #c5cad3;border-radius:5px;background:#f7f8fa;cursor:pointer}
.controls button:hover{background:#e9edf3}
#zrange{color:#556;margin-left:8px}
.keyf{margin-left:auto}
.note{background:#fff8e1;border:1px solid #f0d890;border-radius:6px;padding:6px 10px;font-size:13px}
svg.chart{width:100%;height:auto;display:block;font-family:ui-monospace,Menlo,Consolas,monospace;user-select:none}
#overview{border-bottom:1px solid #eceef2;margin-bottom:4px;cursor:crosshair}
#timeline,#latency,#throughput{cursor:crosshair}
#ovbrush{fill:#1a56b0;fill-opacity:.07;stroke:#1a56b0;stroke-width:1}
.ovwin{opacity:.85}
.ovd.ok{fill:#2e9d4f}.ovd.fail{fill:#d64545}.ovd.info{fill:#e6a100}
.sel{fill:#1a56b0;fill-opacity:.12;stroke:#1a56b0;stroke-dasharray:3 2}
.stripe{fill:#f3f5f8}
.lane{font-size:11px;fill:#555;text-anchor:end}.lane.sub{font-size:9.5px;fill:#889}
.ptitle{font-size:11.5px;font-weight:700;fill:#333}
.tick{font-size:10.5px;fill:#555;text-anchor:middle}
.axis{stroke:#888;stroke-width:1}
.op.w.ok{fill:#1f8f45}.op.r.ok{fill:#8fd3a4}
.op.w.fail{fill:#c62828}.op.r.fail{fill:#f19a9a}
.op.w.info{fill:#d08c00}.op.r.info{fill:#f3cd6a}
.op.open{fill:url(#hatch);stroke:#b07a00;stroke-width:.8;stroke-dasharray:3 2}
.op:hover{stroke:#000;stroke-width:1.2}
.wl{font-size:10.5px;fill:#fff;pointer-events:none}
.brk{fill:#fff;stroke:#bbb;stroke-dasharray:4 3}
.brkl{font-size:11px;fill:#888;text-anchor:middle}
.settle{stroke:#333;stroke-width:1;stroke-dasharray:5 3}
.settlel{font-size:10.5px;fill:#333}
.wbox{fill:none;stroke:#111;stroke-width:1.6}
.wbox.hl{stroke:#1a56b0;stroke-width:3}
.wb{cursor:pointer}.wb:hover .wbox{fill:#1a56b0!important;stroke:#1a56b0!important}
.wb .lead{stroke:#111;stroke-width:.8;opacity:.45}.wb:hover .lead{opacity:1;stroke:#1a56b0}
.wnum{font-size:10.5px;font-weight:700;fill:#fff;text-anchor:middle;pointer-events:none}
.grid{stroke:#eceef2;stroke-width:1}.grid.major{stroke:#d5d9e0}
.pt{fill-opacity:.5;stroke:#fff;stroke-width:.4}.pt.ok{fill:#2e9d4f}.pt.fail{fill:#d64545;fill-opacity:.8}.pt.info{fill:#e6a100;fill-opacity:.8}
.q{fill:none;stroke-width:1.6}.rate{fill:none;stroke-width:1.6}
dl.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:6px 22px;margin:0}
dl.stats div{display:flex;gap:10px;border-bottom:1px solid #f0f1f4;padding:3px 0}
dt{color:#667;min-width:130px}dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
pre.schedule{background:#f7f8fa;border:1px solid #e4e7ec;border-radius:6px;padding:10px;font-size:12.5px;max-height:320px;overflow:auto}
.muted{color:#778;font-size:13px}
ul.files{margin:0;padding-left:18px}
footer{padding:6px 28px 24px;color:#889;font-size:12px}
`
